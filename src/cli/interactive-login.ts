// A user's sign-in from the CLI without a password on the command line, as `az login` does it:
//
//  - browser: the authorization code flow with PKCE (RFC 7636) through a one-shot listener on
//    the loopback interface (RFC 8252 §7.3: any port, `http://127.0.0.1:{port}/`); the URL is
//    opened with $BROWSER or xdg-open when there is a display, and always printed, so a user on
//    a headless box can open it elsewhere — or use the device code;
//  - device code (RFC 8628): the code and the page are printed; the CLI polls at the interval the
//    server gives, slowing down when told.
//
// Both sign in as the Azure CLI's public client, ask for the management API with offline_access
// (so the login keeps a refresh token and later commands get any audience from it), and return
// the user's name from the ID token.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyhavenError, UnauthenticatedError } from '../errors.js';
import { errorFromResponse, firstSentence } from './api-errors.js';
import type { CliContext } from './context.js';
import { DEFAULT_TIMEOUT_MS, httpsRequest } from './https-request.js';
import { AZURE_CLI_CLIENT_ID, postTokenRequest, userScope, type TokenEndpoint, type UserTokens } from './login-state.js';

export interface InteractiveOptions {
  /** How long to wait for the user (ms). */
  timeoutMs: number;
}

/** The signed-in user's name (the ID token's preferred_username, as az shows it), with their tokens. */
export interface InteractiveSignIn extends UserTokens {
  userName: string;
  refreshToken: string;
}

/** Browser sign-in through a loopback listener. */
export async function browserSignIn(ctx: CliContext, endpoint: TokenEndpoint & { publicUrl: string }, resource: string, options: InteractiveOptions): Promise<InteractiveSignIn> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const scope = userScope(resource);
  let answer: (result: { code: string } | { error: Error }) => void = () => undefined;
  const result = new Promise<{ code: string } | { error: Error }>((resolve) => (answer = resolve));
  const listener = createServer((req, res) => onCallback(req, res, state, answer));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const redirectUri = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/`;
  try {
    const url = new URL(`${endpoint.server}/${encodeURIComponent(endpoint.tenantId)}/oauth2/v2.0/authorize`);
    for (const [k, v] of Object.entries({
      client_id: AZURE_CLI_CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope, state, prompt: 'select_account',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    })) url.searchParams.set(k, v);
    const opened = openBrowser(ctx, url.href);
    ctx.stderr(opened
      ? `A web browser has been opened at ${url.href}. Please continue the login in the web browser. If no web browser is available or if the web browser fails to open, use device code flow with \`keyhaven login --use-device-code\`.\n`
      : `To sign in, open this address in a web browser on this machine (its answer comes back to ${redirectUri}):\n${url.href}\nOr use \`keyhaven login --use-device-code\`.\n`);
    const timer = setTimeout(() => answer({ error: new UnauthenticatedError('KH_CLI_LOGIN_TIMEOUT', `The sign-in was not completed within ${Math.round(options.timeoutMs / 1000)} seconds.`) }), options.timeoutMs);
    const got = await result.finally(() => clearTimeout(timer));
    if ('error' in got) throw got.error;
    const tokens = await postTokenRequest(ctx, endpoint, {
      grant_type: 'authorization_code', client_id: AZURE_CLI_CLIENT_ID, code: got.code, redirect_uri: redirectUri, code_verifier: verifier, scope,
    }, resource);
    return signedIn(tokens, endpoint.server);
  } finally {
    listener.closeAllConnections();
    await new Promise((resolve) => listener.close(resolve));
  }
}

/** The redirect back: the code (state checked), or the error the server sent (RFC 6749 §4.1.2.1). */
function onCallback(req: IncomingMessage, res: ServerResponse, state: string, answer: (r: { code: string } | { error: Error }) => void): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const page = (status: number, text: string) =>
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(`<!doctype html><html lang="en"><title>Keyhaven sign-in</title><p>${text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</p></html>`);
  if (req.method !== 'GET' || url.pathname !== '/') return void page(404, 'Not found.');
  // Anything not carrying this sign-in's state (another page, a stale tab) is ignored.
  if (url.searchParams.get('state') !== state) return void page(400, 'This is not the sign-in the command line is waiting for.');
  const error = url.searchParams.get('error');
  if (error !== null) {
    const description = url.searchParams.get('error_description') ?? error;
    page(200, `The sign-in failed: ${firstSentence(description)} You may close this window.`);
    return answer({ error: new UnauthenticatedError(error.slice(0, 64), firstSentence(description).slice(0, 500)) });
  }
  const code = url.searchParams.get('code');
  if (!code) return void page(400, 'The answer holds no authorization code.');
  page(200, 'You have signed in. You may close this window and return to the command line.');
  answer({ code });
}

/** $BROWSER, else xdg-open when a display exists; whether one was started. */
function openBrowser(ctx: CliContext, url: string): boolean {
  const browser = ctx.env.BROWSER;
  const command = browser !== undefined && browser !== '' ? browser : ctx.env.DISPLAY || ctx.env.WAYLAND_DISPLAY ? 'xdg-open' : undefined;
  if (command === undefined) return false;
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true, env: ctx.env });
    child.on('error', (err) => ctx.debug(`could not start ${command}: ${err.message}`));
    child.unref();
    return true;
  } catch (err) {
    ctx.debug(`could not start ${command}: ${(err as Error).message}`);
    return false;
  }
}

/** Device code sign-in: prints what to do, polls until the user has approved (or declined). */
export async function deviceCodeSignIn(ctx: CliContext, endpoint: TokenEndpoint, resource: string, options: InteractiveOptions): Promise<InteractiveSignIn> {
  const scope = userScope(resource);
  const url = `${endpoint.server}/${encodeURIComponent(endpoint.tenantId)}/oauth2/v2.0/devicecode`;
  ctx.debug(`POST ${url}`);
  const res = await httpsRequest({
    method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: AZURE_CLI_CLIENT_ID, scope }).toString(), timeoutMs: endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS, caFile: endpoint.caFile,
  });
  if (res.status !== 200) throw errorFromResponse(res, new URL(url).origin);
  const started = JSON.parse(res.text) as { device_code?: unknown; user_code?: unknown; verification_uri?: unknown; interval?: unknown; expires_in?: unknown; message?: unknown };
  if (typeof started.device_code !== 'string' || typeof started.user_code !== 'string' || typeof started.verification_uri !== 'string') {
    throw new Error(`the device code endpoint of ${endpoint.server} answered without a device code`);
  }
  ctx.stderr(`${typeof started.message === 'string' ? started.message : `To sign in, use a web browser to open the page ${started.verification_uri} and enter the code ${started.user_code} to authenticate.`}\n`);
  let intervalMs = 1000 * (Number(started.interval) > 0 ? Number(started.interval) : 5);
  const deadline = Date.now() + Math.min(options.timeoutMs, 1000 * (Number(started.expires_in) > 0 ? Number(started.expires_in) : 900));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    try {
      const tokens = await postTokenRequest(ctx, endpoint, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: AZURE_CLI_CLIENT_ID, device_code: started.device_code, scope }, resource);
      return signedIn(tokens, endpoint.server);
    } catch (err) {
      const code = err instanceof KeyhavenError ? err.code : undefined;
      // RFC 8628 §3.5: keep polling while pending; slow down by 5 s when told.
      if (code === 'slow_down') intervalMs += 5000;
      else if (code !== 'authorization_pending') throw err;
      if (Date.now() + intervalMs > deadline) throw new UnauthenticatedError('KH_CLI_LOGIN_TIMEOUT', 'The device code expired before the sign-in was completed.');
    }
  }
}

function signedIn(tokens: UserTokens, server: string): InteractiveSignIn {
  const claims = tokens.idClaims ?? {};
  const name = [claims.preferred_username, claims.upn, claims.unique_name].find((v): v is string => typeof v === 'string' && v !== '');
  if (name === undefined) throw new Error(`the token endpoint of ${server} gave no ID token naming the user`);
  if (tokens.refreshToken === undefined) throw new Error(`the token endpoint of ${server} gave no refresh token for offline_access`);
  return { ...tokens, userName: name, refreshToken: tokens.refreshToken };
}
