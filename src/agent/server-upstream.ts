// The agent's upstream: the Keyhaven token service, reached with the machine credential that
// `keyhaven agent join` (or `keyhaven machine join`) wrote. Each miss is a client_credentials
// request signed with the machine's key (private_key_jwt, its `kid`), naming the managed
// identity it wants (`identity=system`, `identity_client_id`, `identity_object_id`,
// `identity_res_id`: src/tokens/grants/machine-identity.ts). The server's answers become the
// agent's: an identity not assigned is IMDS's 400 "Identity not found"; a refused machine
// (revoked) a 403; anything else — the server down, a 5xx — is "unreachable" and retried.
import { decodeJwt } from 'jose';
import { caFileOf, machineAssertion, readMachineState, type MachineState } from '../cli/machine-credential.js';
import { httpsRequest } from '../cli/https-request.js';
import { ImdsError, IMDS_ERRORS } from './imds-errors.js';
import type { IdentitySelector } from './identity-selector.js';
import type { IssuedToken, TokenUpstream } from './token-cache.js';

const IDENTITY_PARAMETER = { clientId: 'identity_client_id', objectId: 'identity_object_id', resourceId: 'identity_res_id' } as const;

export class ServerUpstream implements TokenUpstream {
  readonly #stateDir: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(stateDir: string, options: { timeoutMs?: number; now?: () => number } = {}) {
    this.#stateDir = stateDir;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The credential as it is on disk now (a key rotation replaces the file). */
  state(): MachineState {
    return readMachineState(this.#stateDir);
  }

  async token(identity: IdentitySelector, resource: string): Promise<IssuedToken> {
    const state = this.state();
    const fields: Record<string, string> = {
      grant_type: 'client_credentials', client_id: state.clientId,
      // Entra's rule: `{resource}/.default`, a resource ending in '/' giving '//.default'.
      scope: `${resource}/.default`,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await machineAssertion(state),
    };
    if (identity.kind === 'system') fields['identity'] = 'system';
    else fields[IDENTITY_PARAMETER[identity.kind]] = identity.value;
    const caFile = caFileOf(this.#stateDir, state);
    // A transport failure propagates as a plain error: the cache retries it.
    const res = await httpsRequest({
      method: 'POST', url: state.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(), timeoutMs: this.#timeoutMs, ...(caFile ? { caFile } : {}),
    });
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      body = {};
    }
    if (res.status >= 500 || res.status === 429) throw new Error(`the token service answered ${res.status}`);
    if (res.status !== 200) throw refusal(res.status, body);
    const accessToken = body['access_token'];
    const expiresIn = Number(body['expires_in']);
    if (typeof accessToken !== 'string' || !Number.isFinite(expiresIn)) throw new Error('the token service answered without an access token');
    const claims = decodeJwt(accessToken);
    const now = Math.floor(this.#now() / 1000);
    return {
      accessToken, resource, expiresOn: now + expiresIn, notBefore: typeof claims.nbf === 'number' ? claims.nbf : now,
      clientId: String(claims['appid'] ?? claims['azp'] ?? ''),
    };
  }
}

function refusal(status: number, body: Record<string, unknown>): ImdsError {
  const error = String(body['error'] ?? '');
  const codes = Array.isArray(body['error_codes']) ? (body['error_codes'] as unknown[]).map(Number) : [];
  const text = String(body['error_description'] ?? '').split(/\s+Trace ID:/)[0]!.slice(0, 500);
  if (codes.includes(700016) && error === 'invalid_request') return IMDS_ERRORS.identityNotFound();
  if (error === 'invalid_resource' || error === 'invalid_scope' || codes.includes(500011)) return new ImdsError(400, 'invalid_resource', text || 'The resource is not known to the identity service.');
  if (status === 401 || error === 'invalid_client' || error === 'unauthorized_client') return IMDS_ERRORS.refused(text || "The identity service refused this machine's credential.");
  return new ImdsError(400, 'invalid_request', text || `The identity service refused the request (${status}).`);
}
