// An application's credentials, as Graph's addPassword / removePassword / addKey /
// removeKey have them.
//  - Client secrets are generated here, never chosen by the caller: 256 random bits
//    (generateCredential), returned once as `secretText` and stored only as HMAC-SHA-256 under
//    the server's credential key (DESIGN.md, security posture), with Entra's `hint` (the first
//    three characters) so an admin can tell secrets apart. Default lifetime two years, as
//    Graph's addPassword; at most ten.
//  - Certificates are stored by their public part only, with SHA-1 (Graph's
//    customKeyIdentifier, the x5t a client assertion names) and SHA-256 (x5t#S256)
//    thumbprints; anything that carries a private key is refused outright.
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { generateCredential } from '../crypto/generated-credential.js';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { AppCredentialRow, ApplicationRow } from '../storage/repos/application-repo.js';
import { auditEvent, notFound, nowIso, type Actor, type DirectoryDeps } from './directory-context.js';
import { toKeyCredential, toPasswordCredential, type KeyCredential, type PasswordCredential } from './graph-objects.js';
import { checkOptionalText } from './principal-names.js';

const DAY_MS = 86_400_000;
const DEFAULT_SECRET_LIFETIME_MS = 2 * 365 * DAY_MS;
const MAX_LIFETIME_MS = 10 * 366 * DAY_MS;
/** Per application and type: bounds the work of checking a presented secret against each. */
export const MAX_CREDENTIALS_PER_TYPE = 20;
const MAX_CERTIFICATE_BYTES = 16 * 1024;

export interface AddPasswordInput {
  displayName?: string | null;
  startDateTime?: string;
  endDateTime?: string;
}

/** Graph's passwordCredential as addPassword returns it: the only time secretText is set. */
export interface NewPasswordCredential extends Omit<PasswordCredential, 'secretText'> {
  secretText: string;
}

export interface AddKeyInput {
  /** The certificate: base64 DER (Graph's keyCredential.key) or PEM. */
  key: string;
  displayName?: string | null;
  startDateTime?: string;
  endDateTime?: string;
}

/** A certificate credential as a client-assertion verifier needs it. */
export interface PublicCertificate {
  keyId: string;
  certificate: X509Certificate;
  thumbprintSha1: string;
  thumbprintSha256: string;
  startDateTime: string;
  endDateTime: string;
}

export class AppCredentials {
  constructor(private readonly deps: DirectoryDeps) {}

  async addPassword(actor: Actor, app: ApplicationRow, input: AddPasswordInput = {}): Promise<NewPasswordCredential> {
    const displayName = checkOptionalText(input.displayName, 'displayName', 256);
    const start = input.startDateTime === undefined ? new Date() : parseDate(input.startDateTime, 'startDateTime');
    const end = input.endDateTime === undefined ? new Date(start.getTime() + DEFAULT_SECRET_LIFETIME_MS) : parseDate(input.endDateTime, 'endDateTime');
    checkLifetime(start, end);
    const secret = generateCredential();
    const row: AppCredentialRow = {
      key_id: randomUUID(), application_id: app.id, type: 'password', display_name: displayName,
      hint: secret.slice(0, 3), secret_digest: this.deps.credentials.digest(secret),
      cert_der_b64: null, thumbprint_sha1: null, thumbprint_sha256: null,
      start_date: start.toISOString(), end_date: end.toISOString(),
    };
    await this.#insert(actor, app, row, 'application.password.add');
    return { ...toPasswordCredential(row), secretText: secret };
  }

  async addKey(actor: Actor, app: ApplicationRow, input: AddKeyInput): Promise<KeyCredential> {
    const cert = parseCertificate(input?.key);
    const validFrom = new Date(cert.validFrom);
    const validTo = new Date(cert.validTo);
    const start = input.startDateTime === undefined ? validFrom : parseDate(input.startDateTime, 'startDateTime');
    const end = input.endDateTime === undefined ? validTo : parseDate(input.endDateTime, 'endDateTime');
    if (start < validFrom || end > validTo || end <= start) {
      throw new InvalidInputError('KH_CREDENTIAL_DATES_INVALID', 'startDateTime and endDateTime must lie within the certificate\'s validity, start before end.');
    }
    if (end.getTime() <= Date.now()) throw new InvalidInputError('KH_CERTIFICATE_INVALID', 'The certificate has expired.');
    const row: AppCredentialRow = {
      key_id: randomUUID(), application_id: app.id, type: 'certificate',
      display_name: checkOptionalText(input.displayName ?? cert.subject.split('\n')[0] ?? null, 'displayName', 256),
      hint: null, secret_digest: null, cert_der_b64: cert.raw.toString('base64'),
      thumbprint_sha1: createHash('sha1').update(cert.raw).digest('hex'),
      thumbprint_sha256: createHash('sha256').update(cert.raw).digest('hex'),
      start_date: start.toISOString(), end_date: end.toISOString(),
    };
    await this.#insert(actor, app, row, 'application.key.add');
    return toKeyCredential(row);
  }

  async remove(actor: Actor, app: ApplicationRow, keyId: string, type: 'password' | 'certificate'): Promise<void> {
    const id = typeof keyId === 'string' ? keyId.toLowerCase() : '';
    const action = type === 'password' ? 'application.password.remove' : 'application.key.remove';
    await this.deps.audit.write(auditEvent(actor, action, app.id, { keyId: id.slice(0, 64) }), async (tx) => {
      if (!(await tx.applications.deleteCredential(app.id, id, type))) throw notFound('KH_CREDENTIAL_NOT_FOUND', keyId);
    });
  }

  /** Credential metadata only: no secret, no digest. */
  async list(app: ApplicationRow): Promise<{ passwordCredentials: PasswordCredential[]; keyCredentials: KeyCredential[] }> {
    const rows = await this.deps.storage.read.applications.credentials(app.id);
    return {
      passwordCredentials: rows.filter((r) => r.type === 'password').map(toPasswordCredential),
      keyCredentials: rows.filter((r) => r.type === 'certificate').map(toKeyCredential),
    };
  }

  /** The application's certificates, for verifying a client assertion (RFC 7523) by x5t / x5t#S256. */
  async publicCertificates(app: ApplicationRow): Promise<PublicCertificate[]> {
    const rows = await this.deps.storage.read.applications.credentials(app.id, 'certificate');
    return rows.map((r) => ({
      keyId: r.key_id,
      certificate: new X509Certificate(Buffer.from(r.cert_der_b64 ?? '', 'base64')),
      thumbprintSha1: r.thumbprint_sha1 ?? '',
      thumbprintSha256: r.thumbprint_sha256 ?? '',
      startDateTime: r.start_date,
      endDateTime: r.end_date,
    }));
  }

  async #insert(actor: Actor, app: ApplicationRow, row: AppCredentialRow, action: string): Promise<void> {
    await this.deps.audit.write(auditEvent(actor, action, app.id, { keyId: row.key_id, appId: app.app_id }), async (tx) => {
      if (!(await tx.applications.byId(app.id))) throw notFound('KH_APPLICATION_NOT_FOUND', app.id);
      if ((await tx.applications.countCredentials(app.id, row.type)) >= MAX_CREDENTIALS_PER_TYPE) {
        throw new ConflictError('KH_CREDENTIAL_LIMIT', `An application may hold at most ${MAX_CREDENTIALS_PER_TYPE} credentials of each type: remove an old one first.`);
      }
      if (row.type === 'certificate') {
        const existing = await tx.applications.credentials(app.id, 'certificate');
        if (existing.some((c) => c.thumbprint_sha256 === row.thumbprint_sha256)) {
          throw new ConflictError('KH_CREDENTIAL_EXISTS', 'Upload of duplicate certificate is not allowed.');
        }
      }
      await tx.applications.insertCredential(row);
    });
  }
}

function parseDate(value: unknown, property: string): Date {
  const date = typeof value === 'string' && value.length <= 40 && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidInputError('KH_CREDENTIAL_DATES_INVALID', `${property} must be an ISO 8601 date and time.`);
  return date;
}

function checkLifetime(start: Date, end: Date): void {
  if (end <= start || end.getTime() <= Date.now() || end.getTime() - start.getTime() > MAX_LIFETIME_MS) {
    throw new InvalidInputError('KH_CREDENTIAL_DATES_INVALID', 'endDateTime must be in the future, after startDateTime, and at most ten years after it.');
  }
}

/** One X.509 certificate from base64 DER or PEM; a private key anywhere in the input is refused. */
function parseCertificate(key: unknown): X509Certificate {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_CERTIFICATE_BYTES * 2) {
    throw new InvalidInputError('KH_CERTIFICATE_INVALID', 'key must be an X.509 certificate, base64 DER or PEM.');
  }
  if (/PRIVATE KEY/.test(key)) {
    throw new InvalidInputError('KH_CERTIFICATE_HAS_PRIVATE_KEY', 'The key contains a private key. Upload only the public certificate; keep the private key with the application.');
  }
  let der: Buffer;
  if (key.includes('-----BEGIN')) {
    const blocks = [...key.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)];
    if (blocks.length !== 1) throw new InvalidInputError('KH_CERTIFICATE_INVALID', 'The PEM must hold exactly one CERTIFICATE block.');
    der = Buffer.from(blocks[0]![1]!.replace(/\s+/g, ''), 'base64');
  } else {
    const compact = key.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new InvalidInputError('KH_CERTIFICATE_INVALID', 'key must be base64 DER or PEM.');
    der = Buffer.from(compact, 'base64');
  }
  if (der.length === 0 || der.length > MAX_CERTIFICATE_BYTES) throw new InvalidInputError('KH_CERTIFICATE_INVALID', 'The certificate is empty or too large.');
  try {
    return new X509Certificate(der);
  } catch {
    throw new InvalidInputError('KH_CERTIFICATE_INVALID', 'The key is not a parsable X.509 certificate.');
  }
}
