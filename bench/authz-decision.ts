// Benchmark: one RBAC decision on a warm authorization index (issue 10: "an authorization
// decision on a warm index costs microseconds, not a database round trip"). The index is the
// server's own (AuthorizationIndex over a real SQLite store, loaded once), with 2,000 role
// assignments over 500 principals at subscription, resource-group and resource scopes, built-in
// and custom roles; the caller is in 20 groups (memberships come from the directory's in-memory
// read model in the server; here a set, as it hands them over). Reported: decisions per second and
// the time of one, for an allowed and a denied action, through Authorizer.can (what every API
// calls) and through the evaluator alone. Numbers are printed, never asserted.
// Run by hand: `npx tsx bench/authz-decision.ts`.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationIndex } from '../src/authz/authorization-index.js';
import { Authorizer } from '../src/authz/authorizer.js';
import { BUILTIN_ROLES } from '../src/authz/builtin-roles.js';
import { evaluate } from '../src/authz/evaluator.js';
import { scopeKey } from '../src/authz/scope.js';
import { Storage } from '../src/storage/storage.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const SUB = `/subscriptions/${randomUUID()}`;

const dir = mkdtempSync(join(tmpdir(), 'kh-bench-authz-'));
const storage = await Storage.open(`sqlite:${join(dir, 'keyhaven.db')}`);
try {
  const principals = Array.from({ length: 500 }, () => randomUUID());
  const groups = principals.slice(0, 20);
  const caller = randomUUID();
  const roles = BUILTIN_ROLES.map((r) => r.id);
  const scopes = (i: number) => [SUB, `${SUB}/resourceGroups/rg${i % 50}`, `${SUB}/resourceGroups/rg${i % 50}/providers/Microsoft.Compute/virtualMachines/vm${i % 200}`][i % 3]!;
  await storage.transaction(async (tx) => {
    const now = new Date().toISOString();
    for (let i = 0; i < 2000; i++) {
      const scope = scopes(i);
      await tx.armRbac.insertAssignment({
        id: randomUUID(), scope, scope_key: scopeKey(scope), role_definition_id: roles[i % roles.length]!, principal_id: principals[i % principals.length]!,
        principal_type: 'User', description: '', created_at: now, updated_at: now, created_by: 'bench', updated_by: 'bench',
      });
    }
  });
  const index = new AuthorizationIndex(storage);
  const memberships = new Set(groups);
  const authorizer = new Authorizer(index, { transitiveGroupsOf: async () => memberships });
  await index.current(); // warm
  const target = `${SUB}/resourceGroups/rg7/providers/Microsoft.Compute/virtualMachines/vm7`;
  const cases: [string, string][] = [['allowed', 'Microsoft.Compute/virtualMachines/read'], ['denied', 'Microsoft.KeyVault/vaults/secrets/getSecret/action']];
  console.log(`RBAC decisions on a warm index: 2000 assignments, caller in ${groups.length} groups (${SECONDS} s each)`);
  for (const [label, action] of cases) {
    const allowed = await authorizer.can(caller, action, target);
    let n = 0;
    const end = performance.now() + SECONDS * 1000;
    const t0 = performance.now();
    while (performance.now() < end) {
      for (let i = 0; i < 1000; i++) await authorizer.can(caller, action, target);
      n += 1000;
    }
    const viaAuthorizer = (performance.now() - t0) / n;
    const snapshot = await index.current();
    const ids = [caller, ...groups];
    const key = scopeKey(target);
    let m = 0;
    const t1 = performance.now();
    const end2 = t1 + SECONDS * 1000;
    while (performance.now() < end2) {
      for (let i = 0; i < 1000; i++) evaluate(snapshot, ids, action, key, 'action');
      m += 1000;
    }
    const viaEvaluator = (performance.now() - t1) / m;
    console.log(`  ${label.padEnd(7)} (${allowed ? 'allow' : 'deny'}): Authorizer.can ${(1000 / viaAuthorizer).toFixed(0)} decisions/s, ${(viaAuthorizer * 1000).toFixed(2)} µs each · evaluator alone ${(viaEvaluator * 1000).toFixed(2)} µs`);
  }
  await index.close();
} finally {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
}
