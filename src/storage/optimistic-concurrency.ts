// Optimistic concurrency for resources several clients edit: an update names the version (the
// etag) it read, applies only `WHERE version = expected`, and bumps it. No row updated means
// someone else changed it first (RFC 9110 §13.1.1, If-Match): PreconditionFailedError.
import type { UpdateResult } from 'kysely';
import { PreconditionFailedError } from '../errors.js';

export function versionBumped(result: UpdateResult, expectedVersion: number): number {
  if (Number(result.numUpdatedRows) !== 1) {
    throw new PreconditionFailedError('KH_VERSION_MISMATCH', 'the resource was changed by another request; read it again and retry');
  }
  return expectedVersion + 1;
}
