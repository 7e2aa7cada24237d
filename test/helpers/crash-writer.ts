// Child process for the crash test: opens the real core services (storage, KEK, audit log
// with group commit) and writes users as fast as it can, 16 at a time, printing
// `ack <username>` only after each write — and its audit record — has committed.
// The parent kills it with SIGKILL mid-burst.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/load.js';
import { openCore } from '../../src/server/core.js';

const [home, storage] = process.argv.slice(2) as [string, string];
const { config } = loadConfig({ env: {}, flags: { home, storage, passwordScryptLogN: 10 } });
const core = await openCore(config, { createMasterKey: true });
process.stdout.write('ready\n');
let n = 0;
const worker = async () => {
  for (;;) {
    const username = `crash${process.pid}x${n++}`;
    const now = new Date().toISOString();
    const id = randomUUID();
    await core.audit.write({ actor: 'crash-writer', action: 'user.create', target: username }, (tx) =>
      tx.users.insert({ id, username, user_principal_name: `${username}@crash.test`, display_name: username, password_hash: null, account_enabled: 1, created_at: now, updated_at: now }),
    );
    process.stdout.write(`ack ${username}\n`);
  }
};
await Promise.all(Array.from({ length: 16 }, worker));
