// Which registered redirect URI a request names (RFC 6749 §3.1.2, RFC 9700 §4.1.3: exact string
// matching), with the one exception RFC 8252 §7.3 asks for: a native app's loopback redirect
// (`http://127.0.0.1:{port}/…`, and `http://localhost:{port}/…` as Entra accepts it) matches a
// registration of the same path whatever the port, since the app listens on an ephemeral one.
// Nothing else is relaxed: no prefix, no wildcard, no case folding, so no open redirect.
import type { ClientRegistration } from '../token-principals.js';

export type RedirectKind = 'web' | 'publicClient' | 'spa';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const MAX_REDIRECT_URI = 2048;

export function matchRedirectUri(client: ClientRegistration, requested: string): RedirectKind | undefined {
  if (typeof requested !== 'string' || requested.length === 0 || requested.length > MAX_REDIRECT_URI || /[\s\u0000-\u001f#]/.test(requested)) return undefined;
  const kinds: RedirectKind[] = ['web', 'publicClient', 'spa'];
  for (const kind of kinds) if (client[kind].includes(requested)) return kind;
  const asked = loopback(requested);
  if (!asked) return undefined;
  for (const kind of kinds) {
    for (const registered of client[kind]) {
      const r = loopback(registered);
      if (r && r.hostname === asked.hostname && r.pathname === asked.pathname && r.search === asked.search) return kind;
    }
  }
  return undefined;
}

/** An `http:` loopback URL without credentials, or undefined. */
function loopback(uri: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname) || url.username !== '' || url.password !== '' || url.hash !== '') return undefined;
  return url;
}
