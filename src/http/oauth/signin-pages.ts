// The sign-in, device and error pages: plain server-rendered HTML that works without
// JavaScript (there is none) and with a screen reader — every field has a <label>, errors are
// in a role="alert" region and name the field, the language is declared, focus order is the
// document order. Every value is HTML-escaped. The body's data-oauth-error / data-aadsts say
// what went wrong, for tests and tools; people read the text.
import type { FastifyReply } from 'fastify';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;color:#111}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 4px #0003}
h1{font-size:1.5rem;margin-top:0}label{display:block;margin-top:1rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;margin-top:.3rem;border:1px solid #555;border-radius:.25rem}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;border-radius:.25rem;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5cad;margin-left:.5rem}.alert{color:#a4000f;font-weight:600}.small{color:#444;font-size:.9rem}
:focus-visible{outline:3px solid #f5a300;outline-offset:2px}`;

export interface PageOptions {
  title: string;
  body: string;
  status?: number;
  /** Origins a form on this page may post or be redirected to (CSP form-action). */
  formTargets?: string[];
  error?: { error: string; aadsts?: number };
}

export function sendPage(reply: FastifyReply, page: PageOptions): FastifyReply {
  const formAction = ["'self'", ...(page.formTargets ?? [])].join(' ');
  const data = page.error ? ` data-oauth-error="${escapeHtml(page.error.error)}"${page.error.aadsts !== undefined ? ` data-aadsts="${page.error.aadsts}"` : ''}` : '';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(page.title)} – Keyhaven</title>
<style>${STYLE}</style>
</head>
<body${data}>
<main>
${page.body}
</main>
</body>
</html>
`;
  return reply
    .status(page.status ?? 200)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`)
    .send(html);
}

export function hiddenFields(fields: Iterable<[string, string]>): string {
  return [...fields].map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v)}">`).join('\n');
}

export interface SignInForm {
  action: string;
  appName: string;
  csrf: string;
  hidden: [string, string][];
  username?: string;
  error?: string;
  /** A live session's user (prompt=select_account, the device page): offered to continue as. */
  signedInAs?: string;
  heading?: string;
  intro?: string;
  /** The device page: a button that declines the sign-in. */
  allowDeny?: boolean;
}

export function signInBody(form: SignInForm): string {
  const error = form.error ? `<p class="alert" role="alert" id="signin-error">${escapeHtml(form.error)}</p>` : '';
  const hidden = hiddenFields([['csrf_token', form.csrf], ...form.hidden]);
  const continueAs = form.signedInAs === undefined ? '' : `
<form method="post" action="${escapeHtml(form.action)}">
${hidden}
<p>You are signed in as <strong id="signed-in-as">${escapeHtml(form.signedInAs)}</strong>.</p>
<button type="submit" name="kh_action" value="continue">Continue as ${escapeHtml(form.signedInAs)}</button>
</form>
<p class="small">Or sign in with another account:</p>`;
  return `<h1>${escapeHtml(form.heading ?? 'Sign in')}</h1>
<p>${escapeHtml(form.intro ?? 'to continue to')} <strong id="app-name">${escapeHtml(form.appName)}</strong></p>
${continueAs}
${error}
<form method="post" action="${escapeHtml(form.action)}">
${hidden}
<label for="username">User name or email</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(form.username ?? '')}"${form.error ? ' aria-describedby="signin-error"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${form.error ? ' aria-describedby="signin-error"' : ''}>
<button type="submit" name="kh_action" value="signin">Sign in</button>${form.allowDeny ? '\n<button type="submit" class="secondary" name="kh_action" value="deny" formnovalidate>Cancel sign-in</button>' : ''}
</form>`;
}

export interface SecondFactorForm {
  action: string;
  appName: string;
  csrf: string;
  hidden: [string, string][];
  username: string;
  error?: string;
  /** Proof-up: the authenticator to add (its QR code as an SVG, and its secret for typing in). */
  enrolment?: { qrSvg: string; secret: string };
}

/** The second step: the code from the authenticator app — or, first, adding the app. */
export function secondFactorBody(form: SecondFactorForm): string {
  const error = form.error ? `<p class="alert" role="alert" id="code-error">${escapeHtml(form.error)}</p>` : '';
  const described = form.error ? ' aria-describedby="code-error"' : '';
  const intro = form.enrolment
    ? `<h1>Set up your authenticator app</h1>
<p id="mfa-enrol">Your organisation requires a second sign-in step for <strong>${escapeHtml(form.username)}</strong>. Scan this code with an authenticator app (such as Microsoft Authenticator, Google Authenticator or FreeOTP), then enter the six-digit code it shows to continue to <strong id="app-name">${escapeHtml(form.appName)}</strong>.</p>
<p><img id="mfa-qr" width="240" height="240" alt="QR code for your authenticator app; the same key is written out below" src="data:image/svg+xml;base64,${Buffer.from(form.enrolment.qrSvg).toString('base64')}"></p>
<p class="small">Cannot scan it? Add an account by hand with this key (time-based, six digits, 30 seconds): <code id="mfa-secret">${escapeHtml(form.enrolment.secret)}</code></p>`
    : `<h1>Enter code</h1>
<p id="mfa-prompt">Enter the six-digit code from the authenticator app for <strong>${escapeHtml(form.username)}</strong> to continue to <strong id="app-name">${escapeHtml(form.appName)}</strong>.</p>`;
  return `${intro}
${error}
<form method="post" action="${escapeHtml(form.action)}">
${hiddenFields([['csrf_token', form.csrf], ...form.hidden])}
<label for="otp_code">Code</label>
<input id="otp_code" name="otp_code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,8}" maxlength="8" required${described}>
<button type="submit" name="kh_action" value="verify">Verify</button>
</form>`;
}

export function errorBody(message: string, code: string): string {
  return `<h1>Sorry, we could not sign you in</h1>
<p class="alert" role="alert" id="error-message">${escapeHtml(message)}</p>
<p class="small">Error: <code id="error-code">${escapeHtml(code)}</code>. Go back to the application and try again.</p>`;
}

export interface ChangePasswordForm {
  action: string;
  appName: string;
  csrf: string;
  hidden: [string, string][];
  username: string;
  error?: string;
}

/** An administrator asked for a new password at this sign-in (Graph forceChangePasswordNextSignIn). */
export function changePasswordBody(form: ChangePasswordForm): string {
  const error = form.error ? `<p class="alert" role="alert" id="change-error">${escapeHtml(form.error)}</p>` : '';
  const described = form.error ? ' aria-describedby="change-error"' : '';
  return `<h1>Update your password</h1>
<p id="change-required">You need to choose a new password for <strong>${escapeHtml(form.username)}</strong> before you continue to <strong id="app-name">${escapeHtml(form.appName)}</strong>.</p>
${error}
<form method="post" action="${escapeHtml(form.action)}">
${hiddenFields([['csrf_token', form.csrf], ['username', form.username], ...form.hidden])}
<label for="current_password">Current password</label>
<input id="current_password" name="current_password" type="password" autocomplete="current-password" required${described}>
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required${described}>
<label for="confirm_password">Confirm new password</label>
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required${described}>
<button type="submit" name="kh_action" value="change">Change password and sign in</button>
</form>`;
}
