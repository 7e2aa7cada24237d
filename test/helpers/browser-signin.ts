// The test playing the browser on Keyhaven's sign-in and device pages: fetch with a cookie jar,
// redirects followed by hand (so the redirect back to the client is caught, not fetched), and
// the page's forms parsed — hidden fields (the CSRF token, the carried request), field names.
import type { Tenant } from './tenant-fixtures.js';
import { graph } from './tenant-fixtures.js';

export interface PageAnswer {
  status: number;
  location?: string;
  text: string;
  headers: Headers;
  url: string;
}

export function decodeHtml(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export interface ParsedForm {
  action: string;
  fields: Map<string, string>;
  html: string;
}

/** The page's forms with their hidden (and pre-filled text) fields. */
export function formsOf(html: string): ParsedForm[] {
  return [...html.matchAll(/<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/g)].map((m) => {
    const fields = new Map<string, string>();
    for (const input of m[2]!.matchAll(/<input ([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(input[1]!)?.[1];
      const value = /value="([^"]*)"/.exec(input[1]!)?.[1];
      if (name !== undefined && value !== undefined) fields.set(decodeHtml(name), decodeHtml(value));
    }
    return { action: decodeHtml(m[1]!), fields, html: m[2]! };
  });
}

/** The form holding a password field (the sign-in form), or the first form. */
export function passwordForm(html: string): ParsedForm {
  const forms = formsOf(html);
  const form = forms.find((f) => f.html.includes('name="password"')) ?? forms[0];
  if (!form) throw new Error(`no form on the page:\n${html.slice(0, 2000)}`);
  return form;
}

export function pageError(html: string): { error?: string; aadsts?: number } {
  const error = /data-oauth-error="([^"]*)"/.exec(html)?.[1];
  const aadsts = /data-aadsts="(\d+)"/.exec(html)?.[1];
  return { ...(error !== undefined ? { error } : {}), ...(aadsts !== undefined ? { aadsts: Number(aadsts) } : {}) };
}

export class TestBrowser {
  readonly jar = new Map<string, string>();

  constructor(readonly origin: string) {}

  async request(url: string, init: { method?: string; form?: Record<string, string> | Map<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<PageAnswer> {
    const absolute = new URL(url, this.origin).href;
    const headers: Record<string, string> = { ...init.headers };
    if (new URL(absolute).origin === this.origin && this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined = init.body;
    if (init.form) {
      body = new URLSearchParams(init.form instanceof Map ? [...init.form] : Object.entries(init.form)).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(absolute, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/i.test(cookie) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, text: await res.text(), headers: res.headers, url: absolute, ...(location !== undefined ? { location } : {}) };
  }

  /** Submits the page's sign-in form with a user name and password; returns the answer (a redirect on success). */
  async submitPassword(page: PageAnswer, username: string, password: string): Promise<PageAnswer> {
    const form = passwordForm(page.text);
    const fields = new Map(form.fields);
    fields.set('username', username);
    fields.set('password', password);
    fields.set('kh_action', 'signin');
    return this.request(new URL(form.action, page.url).href, { form: fields });
  }

  /** Submits the page's second-factor form (the one with the code field) with `code`. */
  async submitCode(page: PageAnswer, code: string): Promise<PageAnswer> {
    const form = formsOf(page.text).find((f) => f.html.includes('name="otp_code"'));
    if (!form) throw new Error(`no code form on the page:\n${page.text.slice(0, 2000)}`);
    const fields = new Map(form.fields);
    fields.set('otp_code', code);
    fields.set('kh_action', 'verify');
    return this.request(new URL(form.action, page.url).href, { form: fields });
  }

  /** Opens an authorization URL and signs in if asked; returns the redirect back to the client. */
  async signIn(authorizeUrl: string, username: string, password: string): Promise<URL> {
    const page = await this.request(authorizeUrl);
    if (page.status === 302 && page.location) return new URL(page.location);
    if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${page.text.slice(0, 1500)}`);
    const answer = await this.submitPassword(page, username, password);
    if ((answer.status !== 303 && answer.status !== 302) || !answer.location) throw new Error(`sign-in answered ${answer.status}: ${answer.text.slice(0, 1500)}`);
    return new URL(answer.location);
  }

  /** Plays the user on the device page: types the user code, then the password. Returns the final page. */
  async approveDevice(userCode: string, username: string, password: string): Promise<PageAnswer> {
    const codePage = await this.request('/devicelogin');
    const codeForm = formsOf(codePage.text)[0]!;
    const fields = new Map(codeForm.fields);
    fields.set('user_code', userCode);
    fields.set('kh_action', 'next');
    const signInPage = await this.request('/devicelogin', { form: fields });
    if (signInPage.status !== 200) throw new Error(`device page answered ${signInPage.status}: ${signInPage.text.slice(0, 1500)}`);
    return this.submitPassword(signInPage, username, password);
  }
}

export interface AppFixture {
  appId: string;
  id: string;
}

/** An application registered over Graph with the given sign-in settings. */
export async function registerApp(t: Tenant, adminToken: string, body: Record<string, unknown>): Promise<AppFixture> {
  const app = await graph<{ id: string; appId: string }>(t, adminToken, 'POST', '/applications', body);
  if (app.status !== 201) throw new Error(`create application: ${app.status} ${JSON.stringify(app.body)}`);
  return { appId: app.body.appId, id: app.body.id };
}

export async function createUser(t: Tenant, adminToken: string, name: string, password: string, extra: Record<string, unknown> = {}): Promise<string> {
  const user = await graph<{ id: string }>(t, adminToken, 'POST', '/users', {
    accountEnabled: true, displayName: name.replace(/^./, (c) => c.toUpperCase()).replace(/-/g, ' '), mailNickname: name,
    userPrincipalName: `${name}@keyhaven.local`, passwordProfile: { password, forceChangePasswordNextSignIn: false }, ...extra,
  });
  if (user.status !== 201) throw new Error(`create user: ${user.status} ${JSON.stringify(user.body)}`);
  return user.body.id;
}
