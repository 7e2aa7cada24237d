// Keys the server itself holds — the HMAC key for generated credentials, the audit key,
// later the token signing keys — live in the database sealed under a data key, so every
// replica given the same KEK file serves with the same keys (DESIGN.md, "Where state lives").
import type { Envelope } from '../crypto/envelope.js';
import type { Storage } from '../storage/storage.js';

const PURPOSE = 'server-secrets';

export class ServerSecrets {
  constructor(
    private readonly storage: Storage,
    private readonly envelope: Envelope,
  ) {}

  /** The secret called `name`, created by `create` the first time (first replica wins). */
  async getOrCreate(name: string, create: () => Buffer): Promise<Buffer> {
    const context = `server-secret|${name}`;
    let sealed = await this.storage.read.serverSecrets.get(name);
    if (sealed === undefined) {
      const candidate = await this.envelope.encrypt(PURPOSE, create(), context);
      await this.storage.read.serverSecrets.insertIfAbsent(name, candidate, new Date().toISOString());
      sealed = (await this.storage.read.serverSecrets.get(name))!;
    }
    return this.envelope.decrypt(sealed, context);
  }
}

export const SECRET_AUDIT_KEY = 'audit-hmac-key';
export const SECRET_CREDENTIAL_KEY = 'credential-hmac-key';
