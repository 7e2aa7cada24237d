// The browser sign-in (OpenID Connect Core §3.1, RFC 6749 §4.1.1–4.1.2) without HTTP: checking
// an authorization request, signing the user in with their password (the directory's check,
// with its lockout and throttle) or their single-sign-on session, and making the code. The
// face (src/http/oauth/authorize-routes.ts) renders pages and redirects.
//
// A request is checked in two phases, because where an error may be sent depends on it
// (RFC 6749 §4.1.2.1, RFC 9700 §4.11): until the client and its redirect URI are known and
// registered, errors are shown on a page and never redirected (no open redirect); after, they
// go back to the client's redirect URI with `error` and the request's `state`.
import { InvalidInputError, UnauthenticatedError } from '../../errors.js';
import type { SecretValue } from '../../crypto/secret-value.js';
import type { Audiences } from '../audiences.js';
import type { TokenEndpoint } from '../grants/grant.js';
import { userScope } from '../grants/resolve-audience.js';
import type { ClientRegistration, TokenPrincipals, UserPrincipal } from '../token-principals.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import { isS256Challenge } from './pkce.js';
import { matchRedirectUri, type RedirectKind } from './redirect-uris.js';
import type { LiveSession, SigninSessions } from './signin-sessions.js';
import { stillSignedIn } from './sign-in-validity.js';
import type { TotpEnrollment } from '../../directory/second-factor.js';

export interface SignedIn {
  user: UserPrincipal;
  session: { id: string; authTime: number; amr: string[] };
}

/**
 * After the password, a user who must use a second factor (src/directory/second-factor-sign-in.ts):
 * the page asks for the code of their authenticator app — or, when they have none yet, shows
 * one to scan and asks for its first code (Entra's "More information required" proof-up).
 */
export interface SecondFactorStep {
  user: UserPrincipal;
  /** When the password was proven (ms since the epoch); the step must be finished within SECOND_FACTOR_STEP_MS. */
  passwordAt: number;
  enrolment?: TotpEnrollment;
}

export type PasswordOutcome = SignedIn | { mustChange: UserPrincipal } | { secondFactor: SecondFactorStep };

/** How long after the password the code may be given. */
export const SECOND_FACTOR_STEP_MS = 10 * 60 * 1000;
const SECOND_FACTOR_AMR = ['pwd', 'otp', 'mfa'];

export type Prompt = 'none' | 'login' | 'select_account' | 'consent';

/** The authorization request parameters carried from the first GET through the sign-in form. */
export const AUTHORIZE_PARAMETERS = [
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'prompt', 'login_hint', 'resource', 'domain_hint', 'client_info', 'max_age',
] as const;

/** Phase one: the client and where its answers may go. */
export interface AuthorizeTarget {
  client: ClientRegistration;
  redirectUri: string;
  redirectKind: RedirectKind;
  state?: string;
  responseMode: 'query' | 'form_post';
}

/** Phase two: everything else, checked. */
export interface AuthorizeRequest extends AuthorizeTarget {
  /** What the code will grant, as a scope string (a v1 `resource` becomes `{resource}/.default`). */
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  prompt?: Prompt;
  loginHint?: string;
}

export interface BrowserSignInOptions {
  principals: TokenPrincipals;
  audiences: Audiences;
  codes: AuthorizationCodes;
  sessions: SigninSessions;
  now?: () => number;
}

const PROMPTS = new Set<Prompt>(['none', 'login', 'select_account', 'consent']);
const MAX_STATE = 2048;

export class BrowserSignIn {
  readonly #o: BrowserSignInOptions;
  readonly #now: () => number;

  constructor(options: BrowserSignInOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get sessions(): SigninSessions {
    return this.#o.sessions;
  }

  /** The sign-in's clock (ms), for the faces' signed tickets. */
  now(): number {
    return this.#now();
  }

  /** Phase one: errors here are shown, never redirected. */
  async target(params: ReadonlyMap<string, string>): Promise<AuthorizeTarget> {
    const clientId = params.get('client_id');
    if (!clientId) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "The request must contain the parameter 'client_id'.");
    const client = await this.#o.principals.clientRegistration(clientId);
    if (!client) throw new UnauthenticatedError('KH_CLIENT_NOT_FOUND', `Application with identifier '${printable(clientId, 64)}' was not found in the directory.`);
    if (!client.servicePrincipalEnabled) throw new UnauthenticatedError('KH_CLIENT_DISABLED', 'Application is disabled.');
    const redirectUri = params.get('redirect_uri');
    if (!redirectUri) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "The request must contain the parameter 'redirect_uri'.");
    const redirectKind = matchRedirectUri(client, redirectUri);
    if (!redirectKind) {
      throw new InvalidInputError('KH_REDIRECT_URI_MISMATCH', `The redirect URI '${printable(redirectUri, 256)}' specified in the request does not match the redirect URIs configured for the application '${client.appId}'.`);
    }
    const responseMode = params.get('response_mode') ?? 'query';
    if (responseMode !== 'query' && responseMode !== 'form_post') {
      throw new InvalidInputError('KH_RESPONSE_MODE_UNSUPPORTED', "response_mode must be 'query' or 'form_post'.");
    }
    const target: AuthorizeTarget = { client, redirectUri, redirectKind, responseMode };
    const state = params.get('state');
    if (state !== undefined) target.state = state.slice(0, MAX_STATE);
    return target;
  }

  /** Phase two: errors here go back to the redirect URI. */
  async request(target: AuthorizeTarget, params: ReadonlyMap<string, string>, endpoint: TokenEndpoint): Promise<AuthorizeRequest> {
    const responseType = params.get('response_type');
    if (!responseType) throw new InvalidInputError('KH_OAUTH_MISSING_PARAMETER', "The request must contain the parameter 'response_type'.");
    if (responseType !== 'code') throw new InvalidInputError('KH_RESPONSE_TYPE_UNSUPPORTED', `response_type '${printable(responseType, 64)}' is not supported: only 'code' (with PKCE) is.`);
    const resource = params.get('resource');
    const requestedScope = params.get('scope') ?? '';
    let scope: string;
    if (endpoint !== 'v2' && resource && !requestedScope.split(' ').some((s) => s.includes('/'))) {
      const audience = await this.#o.audiences.resolveResource(resource);
      scope = [`${audience.audience}/.default`, ...requestedScope.split(' ').filter(Boolean)].join(' ');
    } else {
      scope = requestedScope;
    }
    await userScope(this.#o.audiences, scope); // refuse an unknown resource now, not at redemption
    const request: AuthorizeRequest = { ...target, scope };
    const nonce = params.get('nonce');
    if (nonce !== undefined && nonce !== '') request.nonce = nonce.slice(0, MAX_STATE);
    const challenge = params.get('code_challenge');
    const method = params.get('code_challenge_method');
    if (challenge !== undefined && challenge !== '') {
      if ((method ?? 'plain') !== 'S256') throw new InvalidInputError('KH_PKCE_METHOD_UNSUPPORTED', "code_challenge_method must be 'S256'.");
      if (!isS256Challenge(challenge)) throw new InvalidInputError('KH_PKCE_CHALLENGE_INVALID', 'code_challenge must be 43 base64url characters (RFC 7636 §4.2).');
      request.codeChallenge = challenge;
    } else if (!(target.redirectKind === 'web' && target.client.hasCredentials)) {
      // Public clients (desktop, mobile, SPA, or any app without a credential) must use PKCE:
      // nothing else ties the code to the app that asked for it (RFC 9700 §2.1.1).
      throw new InvalidInputError('KH_PKCE_REQUIRED', 'Proof Key for Code Exchange (code_challenge with S256) is required for this client and redirect URI.');
    }
    const prompt = params.get('prompt');
    if (prompt !== undefined && prompt !== '') {
      if (!PROMPTS.has(prompt as Prompt)) throw new InvalidInputError('KH_PROMPT_INVALID', `prompt '${printable(prompt, 32)}' is not one of none, login, select_account, consent.`);
      request.prompt = prompt as Prompt;
    }
    const hint = params.get('login_hint');
    if (hint !== undefined && hint !== '') request.loginHint = hint.slice(0, 256);
    return request;
  }

  /**
   * What the session allows without a page: a code (single sign-on), a `login_required` error
   * (prompt=none without a session), or undefined when the page must ask.
   */
  async silent(request: AuthorizeRequest, session: LiveSession | undefined): Promise<string | undefined> {
    if (request.prompt === 'none') {
      if (!session) throw new InvalidInputError('KH_LOGIN_REQUIRED', 'The user must sign in: prompt=none was given and there is no sign-in session.');
      if (!(await this.sessionSuffices(session))) {
        throw new InvalidInputError('KH_MFA_INTERACTION_REQUIRED', 'The user must sign in with a second factor: prompt=none was given and the sign-in session did not use one.');
      }
      return this.issueCode(request, session.user, session.authTime, session.amr);
    }
    if (session && request.prompt === undefined && (await this.sessionSuffices(session))) {
      return this.issueCode(request, session.user, session.authTime, session.amr);
    }
    return undefined;
  }

  /**
   * Whether a session may sign its user in without asking again: one that used a second
   * factor, or whose user need not use one (a requirement added after the session began
   * applies at once — it is checked on every use, not when the session was made).
   */
  async sessionSuffices(session: Pick<LiveSession, 'user' | 'amr'>): Promise<boolean> {
    return session.amr.includes('mfa') || !(await this.#o.principals.secondFactorRequired(session.user.objectId));
  }

  /**
   * Deny by default: no code, and no device approval, for a user who must use a second factor
   * unless this sign-in used one — whatever path led here.
   */
  async #refuseWithoutSecondFactor(user: UserPrincipal, amr: string[]): Promise<void> {
    if (!(await this.sessionSuffices({ user, amr }))) {
      throw new UnauthenticatedError('KH_MFA_REQUIRED', 'This account must use a second factor: sign in again with your password and the code from your authenticator app.');
    }
  }

  /** For the device page: refuses to approve a device for a sign-in without the second factor its user needs. */
  async checkApproval(user: UserPrincipal, amr: string[]): Promise<void> {
    await this.#refuseWithoutSecondFactor(user, amr);
  }

  /** The session, or the second-factor step, once the password (and any forced change) is done. */
  async #afterPassword(user: UserPrincipal, ctx: { source: string; correlationId: string }): Promise<SignedIn | { secondFactor: SecondFactorStep }> {
    const factor = this.#o.principals.secondFactor;
    const status = await factor.status(user.objectId);
    if (!status.required) {
      const session = await this.#o.sessions.create(user.objectId, ['pwd']);
      return { user, session: { ...session, amr: ['pwd'] } };
    }
    const passwordAt = this.#now();
    if (status.enrolled) return { secondFactor: { user, passwordAt } };
    const enrolment = await factor.beginTotp({ id: user.objectId, source: ctx.source, correlationId: ctx.correlationId }, { id: user.objectId, userPrincipalName: user.userPrincipalName });
    return { secondFactor: { user, passwordAt, enrolment } };
  }

  /**
   * The second-factor step again (to show after a wrong code): the user, still allowed to sign
   * in, and the enrolment begun for them. Throws KH_MFA_STEP_EXPIRED when the step has lapsed.
   */
  async secondFactorStep(userId: string, passwordAt: number, methodId?: string): Promise<SecondFactorStep> {
    const user = await this.#stepUser(userId, passwordAt);
    if (methodId === undefined) return { user, passwordAt };
    const enrolment = await this.#o.principals.secondFactor.pendingTotp({ id: user.objectId, userPrincipalName: user.userPrincipalName }, methodId, this.#now());
    if (!enrolment) throw new InvalidInputError('KH_MFA_STEP_EXPIRED', 'The time to finish signing in has run out. Sign in again.');
    return { user, passwordAt, enrolment };
  }

  /**
   * The code from the user's authenticator (or, in proof-up, the first code of the one just
   * scanned, which activates it): then the session starts, with amr pwd+otp+mfa (RFC 8176).
   * The directory throttles, audits refusals and accepts each step's code once.
   */
  async completeSecondFactor(userId: string, passwordAt: number, methodId: string | undefined, code: string, ctx: { source: string; correlationId: string }): Promise<SignedIn> {
    const user = await this.#stepUser(userId, passwordAt);
    const factor = this.#o.principals.secondFactor;
    if (methodId !== undefined) await factor.confirmTotp({ id: user.objectId, source: ctx.source, correlationId: ctx.correlationId }, user.objectId, methodId, code, this.#now());
    else await factor.verify(user.objectId, code, this.#now(), ctx);
    const session = await this.#o.sessions.create(user.objectId, SECOND_FACTOR_AMR);
    return { user, session: { ...session, amr: [...SECOND_FACTOR_AMR] } };
  }

  async #stepUser(userId: string, passwordAt: number): Promise<UserPrincipal> {
    if (!(this.#now() - passwordAt <= SECOND_FACTOR_STEP_MS)) {
      throw new InvalidInputError('KH_MFA_STEP_EXPIRED', 'The time to finish signing in has run out. Sign in again.');
    }
    // Disabled, deleted or password changed since: the step ends with the sign-in it belonged to.
    return stillSignedIn(this.#o.principals, userId, passwordAt);
  }

  /**
   * The password typed on the sign-in page, checked by the directory (lockout, throttle,
   * audit). A user an administrator marked forceChangePasswordNextSignIn gets no session yet:
   * `mustChange`, and the page asks for a new password (changePassword).
   */
  async passwordSignIn(username: string, password: SecretValue, ctx: { source: string; correlationId: string }): Promise<PasswordOutcome> {
    const user = await this.#o.principals.authenticateUser(username, password, { source: ctx.source, correlationId: ctx.correlationId });
    if (user.mustChangePassword) return { mustChange: user };
    return this.#afterPassword(user, ctx);
  }

  /**
   * The forced change: the current password proves the user again (under the throttle), the
   * new one goes through the password policy; then the session starts — after the change, so
   * the change does not void it (sign-in-validity.ts).
   */
  async changePassword(username: string, current: SecretValue, next: string, ctx: { source: string; correlationId: string }): Promise<SignedIn | { secondFactor: SecondFactorStep }> {
    const user = await this.#o.principals.authenticateUser(username, current, { source: ctx.source, correlationId: ctx.correlationId });
    await this.#o.principals.changeOwnPassword(user.objectId, current.reveal(), next, ctx.source);
    const { mustChangePassword: _done, ...changed } = user;
    return this.#afterPassword(changed, ctx);
  }

  async issueCode(request: AuthorizeRequest, user: UserPrincipal, authTime: number, amr: string[]): Promise<string> {
    await this.#refuseWithoutSecondFactor(user, amr);
    return this.#o.codes.issue({
      clientId: request.client.appId, userId: user.objectId, redirectUri: request.redirectUri, scope: request.scope, authTime, amr,
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      ...(request.codeChallenge !== undefined ? { codeChallenge: request.codeChallenge } : {}),
    });
  }

  /** Where logout may send the browser: a redirect URI registered on the named client, else nowhere. */
  async postLogoutTarget(clientId: string | undefined, uri: string | undefined): Promise<string | undefined> {
    if (!clientId || !uri) return undefined;
    const client = await this.#o.principals.clientRegistration(clientId);
    return client && matchRedirectUri(client, uri) ? uri : undefined;
  }
}

function printable(value: string, max: number): string {
  return value.slice(0, max).replace(/[^\x20-\x7e]/g, '?');
}
