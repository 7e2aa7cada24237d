// The browser-facing sign-in endpoints, at Entra's paths:
//   GET|POST /{tenant}/oauth2/v2.0/authorize, /{tenant}/oauth2/authorize, /adfs/oauth2/authorize
//   GET      /{tenant}/oauth2/v2.0/logout,    /{tenant}/oauth2/logout,    /adfs/oauth2/logout
//   GET|POST /devicelogin   (the device page; Entra's is microsoft.com/devicelogin)
// Pages are server-rendered (signin-pages.ts); every form POST carries the CSRF field
// (signin-cookies.ts). Errors before the client's redirect URI is validated are shown on a
// page and never redirected (RFC 6749 §4.1.2.1: no open redirect); after, they go back to the
// client with `error`, `error_description` and `state`. The rules are the core's
// (src/tokens/signin/browser-signin.ts); this file only reads requests and renders.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { SecretValue } from '../../crypto/secret-value.js';
import { InvalidInputError, type KeyhavenError } from '../../errors.js';
import type { TokenEndpoint } from '../../tokens/grants/grant.js';
import { SECOND_FACTOR_STEP_MS, type AuthorizeRequest, type AuthorizeTarget, type BrowserSignIn, type SecondFactorStep, type SignedIn } from '../../tokens/signin/browser-signin.js';
import { qrCodeSvg } from '../../directory/totp-qr-code.js';
import type { DeviceAuthorizations, PendingDeviceAuthorization } from '../../tokens/signin/device-authorizations.js';
import type { TokenPrincipals } from '../../tokens/token-principals.js';
import { logIfServerError, toKeyhavenError } from '../error-handler.js';
import { parseForm, registerFormParser, type FormBody } from './form-body.js';
import { oauthErrorOf } from './oauth-error.js';
import { checkCsrf, clearSessionCookie, cookies, CSRF_COOKIE, csrfToken, SESSION_COOKIE, setSessionCookie } from './signin-cookies.js';
import { changePasswordBody, errorBody, escapeHtml, hiddenFields, secondFactorBody, sendPage, signInBody } from './signin-pages.js';
import { makeDeviceTicket, makeSecondFactorTicket, openDeviceTicket, openSecondFactorTicket } from './signin-tickets.js';
import { checkTenant } from './tenant.js';

export interface SignInRoutesOptions {
  signIn: BrowserSignIn;
  devices: DeviceAuthorizations;
  principals: Pick<TokenPrincipals, 'clientRegistration'>;
  tenantId: string;
  csrfKey: Buffer;
}

/** Errors a person can fix on the password-change form (the password policy's, a wrong current password). */
const CHANGE_ERRORS = new Set([
  'KH_PASSWORD_INVALID', 'KH_PASSWORD_TOO_LONG', 'KH_PASSWORD_TOO_SHORT', 'KH_PASSWORD_CONTAINS_USERNAME', 'KH_PASSWORD_CONTAINS_NAME',
  'KH_PASSWORD_COMMON', 'KH_PASSWORD_PREDICTABLE', 'KH_PASSWORD_REUSED', 'KH_PASSWORD_MISMATCH', 'KH_CURRENT_PASSWORD_WRONG',
]);
const isChangeError = (code: string) => FORM_ERRORS.has(code) || CHANGE_ERRORS.has(code);

/** Errors a person can fix on the form (retyping the password, waiting out a lock). */
const FORM_ERRORS = new Set(['KH_INVALID_CREDENTIALS', 'KH_ACCOUNT_LOCKED', 'KH_SOURCE_THROTTLED', 'KH_ACCOUNT_DISABLED', 'KH_OAUTH_MISSING_PARAMETER', 'KH_MFA_REQUIRED']);
/** Errors on the code page a person fixes by typing the code again (or waiting out a lock). */
const CODE_ERRORS = new Set(['KH_MFA_CODE_INVALID', 'KH_MFA_CODE_REUSED', 'KH_ACCOUNT_LOCKED', 'KH_SOURCE_THROTTLED']);
/** Errors on the code page that end the step: the user signs in again from the password. */
const RESTART_ERRORS = new Set(['KH_MFA_STEP_EXPIRED', 'KH_MFA_ENROLLMENT_EXPIRED', 'KH_MFA_METHOD_NOT_FOUND', 'KH_MFA_ALREADY_ENROLLED', 'KH_GRANT_REVOKED', 'KH_ACCOUNT_DISABLED']);
const STEP_EXPIRED = () => new InvalidInputError('KH_MFA_STEP_EXPIRED', 'The time to finish signing in has run out. Sign in again.');

export const signInRoutes: FastifyPluginAsync<SignInRoutesOptions> = async (app: FastifyInstance, o) => {
  registerFormParser(app);
  // Anything unexpected is a page too: a browser is on the other end.
  app.setErrorHandler((err, request, reply) => {
    const error = toKeyhavenError(err);
    logIfServerError(request, error, err);
    return errorPage(reply, error);
  });

  // ---- the second factor, for both flows ---------------------------------------------------
  /** The code page (or proof-up) for the user whose password was just proven. */
  function secondFactorPage(
    request: FastifyRequest, reply: FastifyReply, step: SecondFactorStep,
    page: { action: string; appName: string; hidden: [string, string][]; formTargets?: string[] }, failed?: KeyhavenError,
  ) {
    const csrf = csrfToken(request, reply, o.csrfKey);
    // The CSRF cookie this browser sent (checked before any password was looked at).
    const cookie = cookies(request).get(CSRF_COOKIE) ?? '';
    const ticket = makeSecondFactorTicket(o.csrfKey, cookie, {
      userId: step.user.objectId, passwordAt: step.passwordAt, ...(step.enrolment ? { methodId: step.enrolment.methodId } : {}),
    });
    const body = secondFactorBody({
      action: page.action, appName: page.appName, csrf, hidden: [...page.hidden, ['mfa_ticket', ticket]], username: step.user.userPrincipalName,
      ...(failed ? { error: failed.message } : {}),
      ...(step.enrolment ? { enrolment: { qrSvg: qrCodeSvg(step.enrolment.otpauthUri.reveal()), secret: step.enrolment.secret.reveal() } } : {}),
    });
    const wire = failed ? oauthErrorOf(failed) : undefined;
    return sendPage(reply, {
      title: step.enrolment ? 'Set up your authenticator app' : 'Enter code', body, ...(page.formTargets ? { formTargets: page.formTargets } : {}),
      ...(wire ? { error: { error: wire.error, aadsts: wire.aadsts } } : {}),
    });
  }

  /** The code form's POST: signed in, the code page again (a wrong code), or back to the password. */
  async function verifySecondFactor(request: FastifyRequest, form: FormBody): Promise<{ signedIn: SignedIn } | { retry: SecondFactorStep; error: KeyhavenError } | { restart: KeyhavenError }> {
    const ticket = openSecondFactorTicket(o.csrfKey, cookies(request).get(CSRF_COOKIE), form.get('mfa_ticket') ?? '', o.signIn.now(), SECOND_FACTOR_STEP_MS);
    if (!ticket) return { restart: STEP_EXPIRED() };
    try {
      return { signedIn: await o.signIn.completeSecondFactor(ticket.userId, ticket.passwordAt, ticket.methodId, form.get('otp_code') ?? '', { source: request.ip, correlationId: request.id }) };
    } catch (err) {
      const error = toKeyhavenError(err);
      if (RESTART_ERRORS.has(error.code)) return { restart: error };
      if (!CODE_ERRORS.has(error.code)) throw err;
      try {
        return { retry: await o.signIn.secondFactorStep(ticket.userId, ticket.passwordAt, ticket.methodId), error };
      } catch (again) {
        const restart = toKeyhavenError(again);
        if (RESTART_ERRORS.has(restart.code)) return { restart };
        throw again;
      }
    }
  }

  // ---- authorize ---------------------------------------------------------------------------
  async function authorize(request: FastifyRequest, reply: FastifyReply, endpoint: TokenEndpoint, path: string) {
    let params: FormBody;
    try {
      params = request.method === 'GET' ? parseForm(queryString(request.url)) : formOf(request);
    } catch (err) {
      return errorPage(reply, toKeyhavenError(err));
    }
    let target: AuthorizeTarget;
    try {
      target = await o.signIn.target(params);
    } catch (err) {
      return errorPage(reply, toKeyhavenError(err));
    }
    let req: AuthorizeRequest;
    try {
      req = await o.signIn.request(target, params, endpoint);
    } catch (err) {
      return redirectError(reply, target, err);
    }
    const action = request.method === 'POST' ? params.get('kh_action') : undefined;
    const sessionId = cookies(request).get(SESSION_COOKIE);
    if (action === undefined) {
      const session = await o.signIn.sessions.current(sessionId);
      let code: string | undefined;
      try {
        code = await o.signIn.silent(req, session);
      } catch (err) {
        return redirectError(reply, target, err);
      }
      if (code !== undefined) return redirect(reply, target, { code }, 302);
      const offer = req.prompt === 'select_account' && session && (await o.signIn.sessionSuffices(session)) ? session.user.displayName ?? session.user.userPrincipalName : undefined;
      return signInPage(request, reply, req, path, params, { ...(offer !== undefined ? { signedInAs: offer } : {}) });
    }
    try {
      checkCsrf(request, params, o.csrfKey);
    } catch (err) {
      return errorPage(reply, toKeyhavenError(err));
    }
    if (action === 'continue') {
      const session = await o.signIn.sessions.current(sessionId);
      if (!session || !(await o.signIn.sessionSuffices(session))) return signInPage(request, reply, req, path, params, { error: 'Your sign-in session has ended. Sign in again.' });
      return redirect(reply, target, { code: await o.signIn.issueCode(req, session.user, session.authTime, session.amr) }, 303);
    }
    const carried = () => [...params].filter(([name]) => AUTHORIZE_CARRIED.has(name) && name !== 'prompt');
    const changePage = (username: string, error?: string) => sendPage(reply, {
      title: 'Update your password', formTargets: [originOf(req.redirectUri)],
      body: changePasswordBody({ action: path, appName: req.client.displayName, csrf: csrfToken(request, reply, o.csrfKey), hidden: carried(), username, ...(error !== undefined ? { error } : {}) }),
    });
    const codePage = (step: SecondFactorStep, failed?: KeyhavenError) =>
      secondFactorPage(request, reply, step, { action: path, appName: req.client.displayName, hidden: carried(), formTargets: [originOf(req.redirectUri)] }, failed);
    if (action === 'change') {
      const username = params.get('username') ?? '';
      try {
        const next = newPassword(params);
        const changed = await o.signIn.changePassword(username, new SecretValue(params.get('current_password') ?? ''), next, { source: request.ip, correlationId: request.id });
        if ('secondFactor' in changed) return codePage(changed.secondFactor);
        setSessionCookie(reply, changed.session.id, o.signIn.sessions.lifetimeSeconds);
        return redirect(reply, target, { code: await o.signIn.issueCode(req, changed.user, changed.session.authTime, changed.session.amr) }, 303);
      } catch (err) {
        const error = toKeyhavenError(err);
        if (!isChangeError(error.code)) throw err;
        return changePage(username, error.message);
      }
    }
    if (action === 'verify') {
      const outcome = await verifySecondFactor(request, params);
      if ('restart' in outcome) return signInPage(request, reply, req, path, params, { error: outcome.restart.message, failed: outcome.restart });
      if ('retry' in outcome) return codePage(outcome.retry, outcome.error);
      const { user, session } = outcome.signedIn;
      setSessionCookie(reply, session.id, o.signIn.sessions.lifetimeSeconds);
      return redirect(reply, target, { code: await o.signIn.issueCode(req, user, session.authTime, session.amr) }, 303);
    }
    if (action !== 'signin') return errorPage(reply, new InvalidInputError('KH_OAUTH_BAD_REQUEST', 'The sign-in form sent an unknown action.'));
    const username = params.get('username') ?? '';
    try {
      if (username === '' || !params.get('password')) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', 'Enter your user name and password.');
      const signedIn = await o.signIn.passwordSignIn(username, new SecretValue(params.get('password')!), { source: request.ip, correlationId: request.id });
      if ('mustChange' in signedIn) return changePage(signedIn.mustChange.userPrincipalName);
      if ('secondFactor' in signedIn) return codePage(signedIn.secondFactor);
      const { user, session } = signedIn;
      setSessionCookie(reply, session.id, o.signIn.sessions.lifetimeSeconds);
      return redirect(reply, target, { code: await o.signIn.issueCode(req, user, session.authTime, session.amr) }, 303);
    } catch (err) {
      const error = toKeyhavenError(err);
      if (!FORM_ERRORS.has(error.code)) throw err;
      return signInPage(request, reply, req, path, params, { error: error.message, username, failed: error });
    }
  }

  function signInPage(
    request: FastifyRequest, reply: FastifyReply, req: AuthorizeRequest, path: string, params: FormBody,
    extra: { error?: string; username?: string; signedInAs?: string; failed?: KeyhavenError },
  ) {
    const carried = [...params].filter(([name]) => AUTHORIZE_CARRIED.has(name) && name !== 'prompt');
    const body = signInBody({
      action: path,
      appName: req.client.displayName,
      csrf: csrfToken(request, reply, o.csrfKey),
      hidden: carried,
      username: extra.username ?? req.loginHint ?? '',
      ...(extra.error !== undefined ? { error: extra.error } : {}),
      ...(extra.signedInAs !== undefined ? { signedInAs: extra.signedInAs } : {}),
    });
    const wire = extra.failed ? oauthErrorOf(extra.failed) : undefined;
    return sendPage(reply, {
      title: 'Sign in', body, formTargets: [originOf(req.redirectUri)],
      ...(wire ? { error: { error: wire.error, aadsts: wire.aadsts } } : {}),
    });
  }

  type Tenant = { Params: { tenant: string } };
  for (const [endpoint, suffix] of [['v2', '/oauth2/v2.0'], ['v1', '/oauth2']] as const) {
    const handler = async (request: FastifyRequest<Tenant>, reply: FastifyReply) => {
      try {
        checkTenant(o.tenantId, request.params.tenant);
      } catch (err) {
        return errorPage(reply, toKeyhavenError(err));
      }
      return authorize(request, reply, endpoint, `/${encodeURIComponent(request.params.tenant)}${suffix}/authorize`);
    };
    app.get<Tenant>(`/:tenant${suffix}/authorize`, handler);
    app.post<Tenant>(`/:tenant${suffix}/authorize`, handler);
    app.get<Tenant>(`/:tenant${suffix}/logout`, async (request, reply) => {
      try {
        checkTenant(o.tenantId, request.params.tenant);
      } catch (err) {
        return errorPage(reply, toKeyhavenError(err));
      }
      return logout(request, reply);
    });
  }
  app.get('/adfs/oauth2/authorize', (request, reply) => authorize(request, reply, 'adfs', '/adfs/oauth2/authorize'));
  app.post('/adfs/oauth2/authorize', (request, reply) => authorize(request, reply, 'adfs', '/adfs/oauth2/authorize'));
  app.get('/adfs/oauth2/logout', (request, reply) => logout(request, reply));

  // ---- logout (OpenID Connect RP-Initiated Logout 1.0) ----------------------------------------
  async function logout(request: FastifyRequest, reply: FastifyReply) {
    let params: FormBody;
    try {
      params = parseForm(queryString(request.url));
    } catch (err) {
      return errorPage(reply, toKeyhavenError(err));
    }
    await o.signIn.sessions.end(cookies(request).get(SESSION_COOKIE));
    clearSessionCookie(reply);
    // The client whose registered URIs the post-logout redirect must be among: client_id, else
    // the ID token hint's audience (read, not trusted: it only picks whose list to check).
    let clientId = params.get('client_id');
    const hint = params.get('id_token_hint');
    if (!clientId && hint) {
      try {
        const aud = decodeJwt(hint).aud;
        clientId = typeof aud === 'string' ? aud : undefined;
      } catch {
        clientId = undefined;
      }
    }
    const target = await o.signIn.postLogoutTarget(clientId, params.get('post_logout_redirect_uri'));
    if (target) {
      const url = new URL(target);
      const state = params.get('state');
      if (state !== undefined) url.searchParams.set('state', state);
      return reply.status(302).header('location', url.href).header('cache-control', 'no-store').send();
    }
    return sendPage(reply, { title: 'Signed out', body: '<h1>You have signed out</h1>\n<p id="signed-out">You may close this window.</p>' });
  }

  // ---- the device page (RFC 8628 §3.3) ------------------------------------------------------
  app.get('/devicelogin', async (request, reply) => {
    const given = parseForm(queryString(request.url)).get('otc') ?? '';
    return codePage(request, reply, given);
  });

  app.post('/devicelogin', async (request, reply) => {
    const form = formOf(request);
    try {
      checkCsrf(request, form, o.csrfKey);
    } catch (err) {
      return errorPage(reply, toKeyhavenError(err));
    }
    const action = form.get('kh_action') ?? 'next';
    let pending: PendingDeviceAuthorization | undefined;
    const ticket = form.get('device_ticket');
    if (ticket !== undefined && action !== 'next') {
      // A step after the code was typed: the code's hash rides along, signed, so the later
      // steps are not counted as more guesses.
      const hash = openDeviceTicket(o.csrfKey, ticket);
      pending = hash === undefined ? undefined : await o.devices.pending(hash);
      if (!pending) return codePage(request, reply, '', { message: 'That code has expired or been used. Start again on your device.', error: new InvalidInputError('KH_USER_CODE_INVALID', 'expired') });
    } else {
      try {
        pending = await o.devices.lookup(form.get('user_code') ?? '', request.ip);
      } catch (err) {
        const error = toKeyhavenError(err);
        if (error.code !== 'KH_USER_CODE_INVALID' && error.code !== 'KH_USER_CODE_THROTTLED') throw err;
        return codePage(request, reply, '', { message: error.message, error }, error.code === 'KH_USER_CODE_THROTTLED' ? 429 : 400);
      }
    }
    const registration = await o.principals.clientRegistration(pending.clientId);
    const appName = registration?.displayName ?? pending.clientId;
    const live = await o.signIn.sessions.current(cookies(request).get(SESSION_COOKIE));
    // A session that did not use the second factor its user needs is not offered to continue with.
    const session = live && (await o.signIn.sessionSuffices(live)) ? live : undefined;
    if (action === 'deny') {
      await o.devices.deny(pending);
      return sendPage(reply, { title: 'Sign-in cancelled', body: `<h1>Sign-in cancelled</h1>\n<p id="device-denied">You declined to sign in to ${escapeHtml(appName)} on the other device. You may close this window.</p>` });
    }
    if (action === 'continue' && session) {
      await o.signIn.checkApproval(session.user, session.amr);
      await o.devices.approve(pending, session.user.objectId, session.authTime, session.amr);
      return devicePageDone(reply, appName, session.user.displayName ?? session.user.userPrincipalName);
    }
    const changePage = (username: string, error?: string) => sendPage(reply, {
      title: 'Update your password',
      body: changePasswordBody({ action: '/devicelogin', appName, csrf: csrfToken(request, reply, o.csrfKey), hidden: [['device_ticket', makeDeviceTicket(o.csrfKey, pending.deviceCodeHash)]], username, ...(error !== undefined ? { error } : {}) }),
    });
    const deviceCodePage = (step: SecondFactorStep, failed?: KeyhavenError) =>
      secondFactorPage(request, reply, step, { action: '/devicelogin', appName, hidden: [['device_ticket', makeDeviceTicket(o.csrfKey, pending.deviceCodeHash)]] }, failed);
    const approve = async (signedIn: SignedIn) => {
      setSessionCookie(reply, signedIn.session.id, o.signIn.sessions.lifetimeSeconds);
      await o.signIn.checkApproval(signedIn.user, signedIn.session.amr);
      await o.devices.approve(pending, signedIn.user.objectId, signedIn.session.authTime, signedIn.session.amr);
      return devicePageDone(reply, appName, signedIn.user.displayName ?? signedIn.user.userPrincipalName);
    };
    if (action === 'verify') {
      const outcome = await verifySecondFactor(request, form);
      if ('restart' in outcome) return deviceSignInPage(request, reply, pending, appName, undefined, { error: outcome.restart });
      if ('retry' in outcome) return deviceCodePage(outcome.retry, outcome.error);
      return approve(outcome.signedIn);
    }
    if (action === 'change') {
      const username = form.get('username') ?? '';
      try {
        const signedIn = await o.signIn.changePassword(username, new SecretValue(form.get('current_password') ?? ''), newPassword(form), { source: request.ip, correlationId: request.id });
        if ('secondFactor' in signedIn) return deviceCodePage(signedIn.secondFactor);
        return await approve(signedIn);
      } catch (err) {
        const error = toKeyhavenError(err);
        if (!isChangeError(error.code)) throw err;
        return changePage(username, error.message);
      }
    }
    if (action === 'signin') {
      const username = form.get('username') ?? '';
      try {
        if (username === '' || !form.get('password')) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', 'Enter your user name and password.');
        const signedIn = await o.signIn.passwordSignIn(username, new SecretValue(form.get('password')!), { source: request.ip, correlationId: request.id });
        if ('mustChange' in signedIn) return changePage(signedIn.mustChange.userPrincipalName);
        if ('secondFactor' in signedIn) return deviceCodePage(signedIn.secondFactor);
        return await approve(signedIn);
      } catch (err) {
        const error = toKeyhavenError(err);
        if (!FORM_ERRORS.has(error.code)) throw err;
        return deviceSignInPage(request, reply, pending, appName, undefined, { error, username });
      }
    }
    return deviceSignInPage(request, reply, pending, appName, session ? session.user.displayName ?? session.user.userPrincipalName : undefined, {});
  });

  function codePage(request: FastifyRequest, reply: FastifyReply, given: string, failure?: { message: string; error: KeyhavenError }, status = 200) {
    const csrf = csrfToken(request, reply, o.csrfKey);
    const error = failure ? `<p class="alert" role="alert" id="code-error">${escapeHtml(failure.message)}</p>` : '';
    const body = `<h1>Enter code</h1>
<p>Enter the code shown on your device or in your application to allow it to sign in.</p>
${error}
<form method="post" action="/devicelogin">
${hiddenFields([['csrf_token', csrf]])}
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required maxlength="32" value="${escapeHtml(given.slice(0, 32))}"${failure ? ' aria-describedby="code-error"' : ''}>
<button type="submit" name="kh_action" value="next">Next</button>
</form>`;
    const wire = failure ? oauthErrorOf(failure.error) : undefined;
    return sendPage(reply, { title: 'Enter code', body, status, ...(wire ? { error: { error: wire.error, aadsts: wire.aadsts } } : {}) });
  }

  function deviceSignInPage(request: FastifyRequest, reply: FastifyReply, pending: PendingDeviceAuthorization, appName: string, signedInAs: string | undefined, extra: { error?: KeyhavenError; username?: string }) {
    const body = signInBody({
      action: '/devicelogin',
      appName,
      csrf: csrfToken(request, reply, o.csrfKey),
      hidden: [['device_ticket', makeDeviceTicket(o.csrfKey, pending.deviceCodeHash)]],
      heading: 'Sign in on another device',
      intro: 'You are signing in to',
      allowDeny: true,
      ...(extra.username !== undefined ? { username: extra.username } : {}),
      ...(extra.error ? { error: extra.error.message } : {}),
      ...(signedInAs !== undefined ? { signedInAs } : {}),
    });
    const wire = extra.error ? oauthErrorOf(extra.error) : undefined;
    return sendPage(reply, { title: 'Sign in', body, ...(wire ? { error: { error: wire.error, aadsts: wire.aadsts } } : {}) });
  }
};

const AUTHORIZE_CARRIED = new Set<string>([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'prompt', 'login_hint', 'resource', 'domain_hint', 'client_info', 'max_age',
]);

/** The new password from the change form, typed twice alike. */
function newPassword(form: FormBody): string {
  const next = form.get('new_password') ?? '';
  if (next === '' || next !== (form.get('confirm_password') ?? '')) throw new InvalidInputError('KH_PASSWORD_MISMATCH', 'The new password and its confirmation do not match.');
  return next;
}

function devicePageDone(reply: FastifyReply, appName: string, displayName: string) {
  return sendPage(reply, {
    title: 'Signed in',
    body: `<h1>You are signed in</h1>\n<p id="device-done">You have signed in to <strong>${escapeHtml(appName)}</strong> as <strong id="display-name">${escapeHtml(displayName)}</strong> on your other device. You may now close this window.</p>`,
  });
}

function errorPage(reply: FastifyReply, error: KeyhavenError) {
  const wire = oauthErrorOf(error);
  const text = wire.text ?? (error.expose ? error.message : 'An internal error occurred.');
  const status = error.kind === 'Internal' || error.kind === 'Unavailable' ? wire.status : error.kind === 'Throttled' ? 429 : 400;
  return sendPage(reply, { title: 'Sign-in error', body: errorBody(`AADSTS${wire.aadsts}: ${text}`, wire.error), status, error: { error: wire.error, aadsts: wire.aadsts } });
}

/** Back to the client (RFC 6749 §4.1.2): in the query, or as an auto-posting form (OAuth 2.0 Form Post Response Mode). */
function redirect(reply: FastifyReply, target: AuthorizeTarget, params: Record<string, string>, status: 302 | 303) {
  const all: [string, string][] = Object.entries(params);
  if (target.state !== undefined) all.push(['state', target.state]);
  if (target.responseMode === 'form_post') {
    const body = `<h1>Signing you in</h1>
<form method="post" action="${escapeHtml(target.redirectUri)}">
${hiddenFields(all)}
<p>Continue to <strong>${escapeHtml(target.client.displayName)}</strong>.</p>
<button type="submit">Continue</button>
</form>`;
    return sendPage(reply, { title: 'Continue', body, formTargets: [originOf(target.redirectUri)] });
  }
  const url = new URL(target.redirectUri);
  for (const [k, v] of all) url.searchParams.set(k, v);
  return reply.status(status).header('location', url.href).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
}

function redirectError(reply: FastifyReply, target: AuthorizeTarget, err: unknown) {
  const error = toKeyhavenError(err);
  if (error.kind === 'Internal' || error.kind === 'Unavailable') throw err;
  const wire = oauthErrorOf(error);
  const text = wire.text ?? error.message;
  return redirect(reply, target, { error: wire.error, error_description: `AADSTS${wire.aadsts}: ${text}` }, 302);
}

function queryString(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

function formOf(request: FastifyRequest): FormBody {
  if (request.body instanceof Map) return request.body as FormBody;
  throw new InvalidInputError('KH_OAUTH_BAD_CONTENT_TYPE', 'The form must be sent as application/x-www-form-urlencoded.');
}

/** For CSP form-action: a URL's origin, or its scheme for a private-use scheme (no origin). */
function originOf(uri: string): string {
  const url = new URL(uri);
  return url.origin !== 'null' ? url.origin : url.protocol;
}
