// The audit stream (`auditStreamFile`): every record appended to a file as a JSON line once it
// is committed, in commit order — the equivalent of Vault's file audit device, for a SIEM or a
// log shipper tailing the file. The file is 0600 and only appended to; the database chain stays
// the source of truth (`keyhaven audit export --after-seq N` fills any gap a crash left).
import { createWriteStream, type WriteStream } from 'node:fs';
import type { AuditRow } from '../storage/repos/audit-repo.js';
import { auditLine } from './audit-line.js';

export class AuditStream {
  readonly #out: WriteStream;

  constructor(path: string, onError: (err: Error) => void) {
    this.#out = createWriteStream(path, { flags: 'a', mode: 0o600 });
    this.#out.on('error', onError);
  }

  record(row: Readonly<AuditRow>): void {
    this.#out.write(auditLine(row));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}
