// The machine side of enrollment, for `keyhaven machine …` and the metadata agent (issue 11):
// the key pair is made here and only its public half is sent; the credential is one file,
// `{stateDir}/machine.json`, mode 0600 in a 0700 directory, holding the private key (PKCS #8
// PEM), its kid, the client id, tenant, server URL, token endpoint and the CA the server's
// certificate was checked against at join time (pinned: later requests trust only it).
// Default state directory as the agent's: /var/lib/keyhaven-agent for root, ~/.keyhaven-agent otherwise.
import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose';
import { errorFromResponse } from './api-errors.js';
import { DEFAULT_TIMEOUT_MS, httpsRequest } from './https-request.js';

export const MACHINE_FILE = 'machine.json';
export const CA_FILE = 'ca.pem';

export interface MachineState {
  version: 1;
  server: string;
  authority: string;
  tenantId: string;
  tokenEndpoint: string;
  machineId: string;
  clientId: string;
  kid: string;
  alg: 'ES256' | 'RS256';
  resourceId: string;
  /** PKCS #8 PEM: never sent anywhere. */
  privateKeyPem: string;
  /** The pinned CA (PEM), when one was given at join time. */
  caPem?: string;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return process.getuid?.() === 0 ? '/var/lib/keyhaven-agent' : join(env['HOME'] || homedir(), '.keyhaven-agent');
}

export type KeyType = 'EC' | 'RSA';

/** A fresh key pair: EC P-256 (ES256) by default, or RSA 3072 (RS256). */
export function generateMachineKey(type: KeyType = 'EC'): { privateKey: KeyObject; alg: 'ES256' | 'RS256' } {
  if (type === 'RSA') return { privateKey: generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey, alg: 'RS256' };
  return { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, alg: 'ES256' };
}

/** The public JWK of a private key: only kty and the public members. */
export async function publicJwk(privateKey: KeyObject): Promise<{ jwk: JWK; kid: string }> {
  const full = await exportJWK(privateKey);
  const jwk: JWK = full.kty === 'RSA' ? { kty: 'RSA', n: full.n!, e: full.e! } : { kty: 'EC', crv: full.crv!, x: full.x!, y: full.y! };
  return { jwk, kid: await calculateJwkThumbprint(jwk, 'sha256') };
}

async function postJson(url: string, body: unknown, caFile: string | undefined): Promise<Record<string, unknown>> {
  const res = await httpsRequest({ method: 'POST', url, headers: { 'content-type': 'application/json', 'user-agent': 'keyhaven-cli' }, body: JSON.stringify(body), timeoutMs: DEFAULT_TIMEOUT_MS, ...(caFile ? { caFile } : {}) });
  if (res.status < 200 || res.status >= 300) throw errorFromResponse(res, new URL(url).origin);
  return JSON.parse(res.text) as Record<string, unknown>;
}

/** Joins: a new key pair, the public key sent with the join token, the credential written 0600. */
export async function joinMachine(options: { server: string; token: string; stateDir: string; caFile?: string; keyType?: KeyType }): Promise<MachineState> {
  const { privateKey, alg } = generateMachineKey(options.keyType);
  const { jwk } = await publicJwk(privateKey);
  const answer = await postJson(`${options.server}/machines/join`, { token: options.token, publicKey: jwk }, options.caFile);
  const state: MachineState = {
    version: 1,
    server: options.server,
    authority: String(answer['authority']),
    tenantId: String(answer['tenantId']),
    tokenEndpoint: String(answer['tokenEndpoint']),
    machineId: String(answer['id']),
    clientId: String(answer['clientId']),
    kid: String(answer['kid']),
    alg,
    resourceId: String(answer['resourceId']),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ...(options.caFile ? { caPem: readFileSync(options.caFile, 'utf8') } : {}),
  };
  writeMachineState(options.stateDir, state);
  return state;
}

export function writeMachineState(stateDir: string, state: MachineState): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
  if (state.caPem) writeFileSync(join(stateDir, CA_FILE), state.caPem, { mode: 0o644 });
  // Written beside, then renamed: a crash never leaves half a credential.
  const temp = join(stateDir, `.${MACHINE_FILE}.${process.pid}.tmp`);
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temp, join(stateDir, MACHINE_FILE));
}

export function readMachineState(stateDir: string): MachineState {
  let text: string;
  try {
    text = readFileSync(join(stateDir, MACHINE_FILE), 'utf8');
  } catch (err) {
    throw new Error(`no machine credential in ${stateDir} (${(err as NodeJS.ErrnoException).code ?? 'error'}); run 'keyhaven machine join' first`);
  }
  const state = JSON.parse(text) as MachineState;
  if (state.version !== 1 || typeof state.privateKeyPem !== 'string') throw new Error(`${join(stateDir, MACHINE_FILE)} is not a machine credential`);
  return state;
}

export function caFileOf(stateDir: string, state: MachineState): string | undefined {
  return state.caPem ? join(stateDir, CA_FILE) : undefined;
}

/** A private_key_jwt client assertion (RFC 7523) for the token endpoint, signed with the machine's key. */
export async function machineAssertion(state: MachineState, audience = state.tokenEndpoint, lifetimeSeconds = 300): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: state.alg, typ: 'JWT', kid: state.kid })
    .setIssuer(state.clientId).setSubject(state.clientId).setAudience(audience)
    .setIssuedAt(now).setNotBefore(now).setExpirationTime(now + lifetimeSeconds)
    .sign(createPrivateKey(state.privateKeyPem));
}

/** client_credentials with the machine's assertion: the access token for `scope`. */
export async function machineToken(stateDir: string, scope: string): Promise<Record<string, unknown>> {
  const state = readMachineState(stateDir);
  const body = new URLSearchParams({
    grant_type: 'client_credentials', client_id: state.clientId, scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await machineAssertion(state),
  }).toString();
  const caFile = caFileOf(stateDir, state);
  const res = await httpsRequest({ method: 'POST', url: state.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, timeoutMs: DEFAULT_TIMEOUT_MS, ...(caFile ? { caFile } : {}) });
  if (res.status !== 200) throw errorFromResponse(res, new URL(state.tokenEndpoint).origin);
  return JSON.parse(res.text) as Record<string, unknown>;
}

/** Key rotation: a new key pair; its public key sent in a JWT signed with the current key; the file replaced. */
export async function rotateMachineKey(stateDir: string, keyType?: KeyType): Promise<MachineState> {
  const state = readMachineState(stateDir);
  const { privateKey, alg } = generateMachineKey(keyType ?? (state.alg === 'RS256' ? 'RSA' : 'EC'));
  const { jwk } = await publicJwk(privateKey);
  const now = Math.floor(Date.now() / 1000);
  const request = await new SignJWT({ jti: randomUUID(), jwk: jwk as Record<string, unknown> })
    .setProtectedHeader({ alg: state.alg, typ: 'JWT', kid: state.kid })
    .setIssuer(state.clientId).setSubject(state.clientId).setAudience(`${state.authority}/machines/rotate-key`)
    .setIssuedAt(now).setExpirationTime(now + 300)
    .sign(createPrivateKey(state.privateKeyPem));
  const answer = await postJson(`${state.server}/machines/rotate-key`, { request }, caFileOf(stateDir, state));
  const next: MachineState = { ...state, kid: String(answer['kid']), alg, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  writeMachineState(stateDir, next);
  return next;
}

/** What `keyhaven machine show|join` print: never the private key. */
export function machineSummary(state: MachineState, stateDir: string): Record<string, unknown> {
  return {
    machineId: state.machineId, clientId: state.clientId, kid: state.kid, tenantId: state.tenantId, resourceId: state.resourceId,
    server: state.server, tokenEndpoint: state.tokenEndpoint, credentialFile: join(stateDir, MACHINE_FILE),
  };
}
