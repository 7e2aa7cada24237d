// Client authentication by signed assertion: private_key_jwt (RFC 7523 §2.2 and §3, OpenID
// Connect Core §9), as Entra ID takes it from MSAL's ClientCertificateCredential. The assertion
// is a JWT signed with the private key of a certificate registered on the application (Graph
// keyCredentials, `keyhaven ad app credential reset --cert`). Checked, in order:
//   - the header names an asymmetric algorithm (RS256, PS256, ES256 …): `none` and the HMAC
//     algorithms are refused outright (RFC 8725 §3.1: never let the token pick a verification
//     that needs no key or a shared one);
//   - `iss` = `sub` = the client id (RFC 7523 §3 items 1–2), and equal to a client_id sent beside;
//   - the key: the registered certificate whose SHA-256 thumbprint is `x5t#S256` (what current
//     MSAL sends), whose SHA-1 thumbprint is `x5t` (older MSAL, Entra's customKeyIdentifier),
//     or whose thumbprint or keyId is `kid`; the certificate's credential must be in its
//     validity window;
//   - the signature, `aud` (this tenant's token endpoint: v2, v1 or `/adfs`, as Entra takes
//     either endpoint's URL), `exp` and `nbf` with a small skew, and a bounded lifetime;
//   - `jti` once: the store refuses a value already used by this client until the assertion
//     would have expired anyway (RFC 7523 §3 item 7), on PostgreSQL across replicas — by
//     default unless the reuse comes from the first use's source, as MSAL reuses its
//     assertions (assertion-jti-store.ts).
import { createHash, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { SecretValue } from '../crypto/secret-value.js';
import { UnauthenticatedError } from '../errors.js';
import type { ClientCertificate, ClientPrincipal, TokenPrincipals } from './token-principals.js';

/**
 * Machine credentials (src/machines/): a joined machine's bare public key, found by `kid` (its
 * RFC 7638 thumbprint) under the machine's client id — no certificate.
 */
export interface MachineCredential {
  machineId: string;
  clientId: string;
  /** The machine's resource (virtualMachines or virtualMachineScaleSets id). */
  resourceId: string;
  kid: string;
  publicKey: KeyObject;
  revoked: boolean;
}

export interface MachineCredentials {
  credential(clientId: string): Promise<MachineCredential | undefined>;
}

/** Remembers assertion ids until they expire: `useOnce` is false for a replay (assertion-jti-store.ts). */
export interface AssertionJtiStore {
  useOnce(clientId: string, jti: string, expiresAtMs: number, source: string): Promise<boolean>;
}

export interface ClientAssertionOptions {
  principals: TokenPrincipals;
  jtis: AssertionJtiStore;
  /** Every `aud` value an assertion for this server may carry. */
  audiences: (endpointUrl: string) => readonly string[];
  /** Tolerance for `exp`, `nbf` and `iat` (clock skew between client and server). Default 300 s. */
  skewSeconds?: number;
  /** Longest lifetime (`exp` − `iat`, and `exp` − now). Default 3600 s; MSAL makes 600 s ones. */
  maxLifetimeSeconds?: number;
  now?: () => number;
  /** Joined machines: a client id no application has is looked up here. */
  machines?: MachineCredentials;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_ASSERTION_LENGTH = 16 * 1024;
const MAX_JTI_LENGTH = 256;

/** A refused assertion: AADSTS700027 (invalid signature or claims) unless a reason says otherwise. */
function refused(code: string, reason: string): UnauthenticatedError {
  return new UnauthenticatedError(code, `Client assertion failed validation: ${reason}`);
}

export class ClientAssertionVerifier {
  readonly #o: ClientAssertionOptions;
  readonly #skew: number;
  readonly #maxLifetime: number;
  readonly #now: () => number;

  constructor(options: ClientAssertionOptions) {
    this.#o = options;
    this.#skew = options.skewSeconds ?? 300;
    this.#maxLifetime = options.maxLifetimeSeconds ?? 3600;
    this.#now = options.now ?? Date.now;
  }

  async verify(assertion: SecretValue, clientId: string | undefined, ctx: { source: string; correlationId: string; endpointUrl: string }): Promise<ClientPrincipal> {
    // Each check throws its own refusal (UnauthenticatedError, audited aggregated by the
    // client-authentication step). Anything else — storage down, a bug — propagates as a
    // server error rather than being passed off as a malformed assertion.
    const { header, claims } = decode(assertion.reveal());
    const appId = checkIssuer(claims, clientId);
    const client = await this.#o.principals.clientCertificates(appId);
    if (!client && this.#o.machines) {
      const machine = await this.#o.machines.credential(appId);
      if (machine) return this.#verifyMachine(assertion.reveal(), header, machine, ctx);
    }
    if (!client) throw new UnauthenticatedError('KH_CLIENT_NOT_FOUND', `Application with identifier '${appId}' was not found in the directory.`);
    const certificate = this.#certificateFor(header, client.certificates);
    const payload = await this.#verifySignatureAndClaims(assertion.reveal(), certificate.certificate.publicKey, ctx.endpointUrl);
    const exp = payload.exp!;
    // exp may be fractional (MSAL Python sends time.time() + lifetime); the store keeps whole milliseconds.
    if (!(await this.#o.jtis.useOnce(appId, payload.jti!, Math.ceil((exp + this.#skew) * 1000), ctx.source))) {
      throw refused('KH_CLIENT_ASSERTION_REPLAYED', 'this assertion (jti) has been used already.');
    }
    if (!client.enabled) throw new UnauthenticatedError('KH_CLIENT_DISABLED', `Application '${appId}' is disabled.`);
    return { ...client.principal, credentialKeyId: certificate.keyId };
  }

  /**
   * A machine's assertion: the key by `kid` only (a bare public key has no x5t), then the same
   * signature, audience, lifetime and jti checks as a certificate's; a revoked machine is told so
   * only after its signature verified (Entra's AADSTS700027: the key is no longer registered).
   */
  async #verifyMachine(jwt: string, header: ProtectedHeaderParameters, machine: MachineCredential, ctx: { source: string; endpointUrl: string }): Promise<ClientPrincipal> {
    if (header.kid !== machine.kid) {
      throw refused('KH_CLIENT_ASSERTION_UNKNOWN_KEY', "the key it names (kid) is not the machine's registered key.");
    }
    const payload = await this.#verifySignatureAndClaims(jwt, machine.publicKey, ctx.endpointUrl);
    if (!(await this.#o.jtis.useOnce(machine.clientId, payload.jti!, Math.ceil((payload.exp! + this.#skew) * 1000), ctx.source))) {
      throw refused('KH_CLIENT_ASSERTION_REPLAYED', 'this assertion (jti) has been used already.');
    }
    if (machine.revoked) throw new UnauthenticatedError('KH_MACHINE_REVOKED', 'The machine credential used to sign the client assertion has been revoked.');
    return {
      objectId: machine.machineId,
      appId: machine.clientId,
      displayName: `machine ${machine.machineId}`,
      credentialKeyId: machine.kid,
      machine: { id: machine.machineId, resourceId: machine.resourceId },
    };
  }

  #certificateFor(header: ProtectedHeaderParameters, certificates: ClientCertificate[]): ClientCertificate {
    const now = new Date(this.#now()).toISOString();
    const x5tS256 = typeof header['x5t#S256'] === 'string' ? hexOfBase64url(header['x5t#S256']) : undefined;
    const x5t = typeof header.x5t === 'string' ? hexOfBase64url(header.x5t) : undefined;
    // `kid` as some clients send it: a thumbprint in hex or base64url, or the credential's keyId.
    const kids = typeof header.kid === 'string' ? [header.kid.toLowerCase(), hexOfBase64url(header.kid)].filter((k) => k !== '') : [];
    const found = certificates.find((c) =>
      (x5tS256 !== undefined && x5tS256 === c.thumbprintSha256)
      || (x5t !== undefined && x5t === c.thumbprintSha1)
      || kids.some((k) => k === c.thumbprintSha1 || k === c.thumbprintSha256 || k === c.keyId.toLowerCase()));
    if (!found) {
      throw refused('KH_CLIENT_ASSERTION_UNKNOWN_KEY', 'the key it names (x5t#S256, x5t or kid) is not registered on the application.');
    }
    if (found.startDateTime > now || found.endDateTime <= now) {
      throw refused('KH_CLIENT_CERTIFICATE_EXPIRED', 'the certificate credential it names is not valid now.');
    }
    return found;
  }

  async #verifySignatureAndClaims(jwt: string, key: KeyObject, endpointUrl: string): Promise<JWTPayload> {
    const nowSeconds = Math.floor(this.#now() / 1000);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, key, {
        algorithms: ALGORITHMS,
        audience: [...new Set([endpointUrl, ...this.#o.audiences(endpointUrl)])],
        clockTolerance: this.#skew,
        currentDate: new Date(nowSeconds * 1000),
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw refused('KH_CLIENT_ASSERTION_EXPIRED', 'the assertion has expired (exp).');
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        if (err.claim === 'aud') throw refused('KH_CLIENT_ASSERTION_AUDIENCE', 'its audience (aud) is not this token endpoint.');
        if (err.claim === 'nbf' || err.claim === 'iat') throw refused('KH_CLIENT_ASSERTION_NOT_YET_VALID', `it is not valid yet (${err.claim}).`);
        throw refused('KH_CLIENT_ASSERTION_INVALID', `the claim ${err.claim} is missing or invalid.`);
      }
      throw refused('KH_CLIENT_ASSERTION_SIGNATURE', 'the signature does not verify with the registered certificate.');
    }
    const exp = payload.exp!;
    const start = typeof payload.iat === 'number' ? payload.iat : typeof payload.nbf === 'number' ? payload.nbf : nowSeconds;
    if (exp - start > this.#maxLifetime || exp - nowSeconds > this.#maxLifetime) {
      throw refused('KH_CLIENT_ASSERTION_LIFETIME', `its lifetime is longer than ${this.#maxLifetime} seconds.`);
    }
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > MAX_JTI_LENGTH) {
      throw refused('KH_CLIENT_ASSERTION_INVALID', 'the claim jti is missing or invalid.');
    }
    return payload;
  }
}

function decode(jwt: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  if (jwt.length > MAX_ASSERTION_LENGTH) throw refused('KH_CLIENT_ASSERTION_INVALID', 'the assertion is too long.');
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(jwt);
    claims = decodeJwt(jwt);
  } catch {
    throw refused('KH_CLIENT_ASSERTION_INVALID', 'the assertion is not a signed JWT.');
  }
  if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg)) {
    // `none`, HS256 and the like: RFC 8725 §3.1–3.2.
    throw refused('KH_CLIENT_ASSERTION_ALGORITHM', `the algorithm '${String(header.alg).slice(0, 16).replace(/[^\x20-\x7e]/g, '?')}' is not accepted; sign with the certificate's private key.`);
  }
  return { header, claims };
}

/** RFC 7523 §3: iss and sub are both the client id, and agree with a client_id sent beside. */
function checkIssuer(claims: JWTPayload, clientId: string | undefined): string {
  const iss = typeof claims.iss === 'string' ? claims.iss.toLowerCase() : '';
  const sub = typeof claims.sub === 'string' ? claims.sub.toLowerCase() : '';
  if (!GUID.test(iss) || iss !== sub) throw refused('KH_CLIENT_ASSERTION_ISSUER', 'iss and sub must both be the client id.');
  if (clientId !== undefined && clientId.trim().toLowerCase() !== iss) {
    throw refused('KH_CLIENT_ASSERTION_ISSUER', 'client_id differs from the assertion\'s iss and sub.');
  }
  return iss;
}

/** A base64url thumbprint (x5t, x5t#S256), padded or not, as lower-case hex, as the directory stores them. */
function hexOfBase64url(value: string): string {
  // MSAL Python pads its x5t (base64.urlsafe_b64encode keeps the '='), MSAL Node does not.
  if (!/^[A-Za-z0-9_-]{1,128}={0,2}$/.test(value)) return '';
  return Buffer.from(value.replace(/=+$/, ''), 'base64url').toString('hex');
}

/** For tests and tools: the x5t#S256 of a DER certificate. */
export function certificateThumbprintS256(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}
