// One HTTPS request for the CLI, on node:https (no extra dependency): a deadline on the whole
// exchange, a cap on the answer's size, TLS verified against Node's roots plus the CA the user
// named, and transport failures turned into one readable line (az prints one line too).
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface HttpsRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Deadline for connecting, sending and reading the whole answer. */
  timeoutMs: number;
  /** PEM file of extra trusted CAs (login's --ca-file). */
  caFile?: string;
}

export interface HttpsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** No API answer of Keyhaven's comes near this; a larger one is a wrong server or an attack. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Default per-request deadline; az's requests have none, but a CLI that can hang forever is worse. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Transport failures: exit 1 with this one line; never carries a header, a body or a token. */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

const caCache = new Map<string, string[]>();

/**
 * An explicit `ca` replaces Node's default store, which also holds NODE_EXTRA_CA_CERTS; so the
 * list is rebuilt here: the bundled roots, NODE_EXTRA_CA_CERTS, then the named file.
 */
function trustedCas(caFile: string): string[] {
  const cached = caCache.get(caFile);
  if (cached) return cached;
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new TransportError(`cannot read the CA file ${caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new TransportError(`the CA file ${caFile} holds no PEM certificate`);
  const list = [...rootCertificates];
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      list.push(readFileSync(extra, 'utf8'));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; do the same (silently).
    }
  }
  list.push(pem);
  caCache.set(caFile, list);
  return list;
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

function transportMessage(err: NodeJS.ErrnoException, origin: string): string {
  const code = err.code ?? '';
  if (TLS_TRUST_CODES.has(code)) {
    return `the TLS certificate of ${origin} is not trusted (${code}); give its CA with 'keyhaven login --ca-file FILE' or NODE_EXTRA_CA_CERTS`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the TLS certificate of ${origin} does not name this host (${code})`;
  if (code === 'CERT_HAS_EXPIRED') return `the TLS certificate of ${origin} has expired (${code})`;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET' || code === 'EAI_AGAIN') {
    return `cannot reach ${origin} (${code})`;
  }
  return `request to ${origin} failed (${code || err.message})`;
}

export function httpsRequest(req: HttpsRequest): Promise<HttpsResponse> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.reject(new TransportError(`not a URL: ${req.url}`));
  }
  // Bearer tokens and secrets travel only over TLS.
  if (url.protocol !== 'https:') return Promise.reject(new TransportError(`refusing a non-HTTPS URL: ${url.origin}`));
  let ca: string[] | undefined;
  try {
    ca = req.caFile ? trustedCas(req.caFile) : undefined;
  } catch (err) {
    return Promise.reject(err);
  }
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));

  return new Promise<HttpsResponse>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const r = request(url, { method: req.method, headers, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          res.destroy();
          finish(() => reject(new TransportError(`the answer of ${url.origin} is larger than ${MAX_RESPONSE_BYTES} bytes`)));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (err) => finish(() => reject(new TransportError(transportMessage(err, url.origin)))));
    });
    const timer = setTimeout(() => {
      finish(() => reject(new TransportError(`no answer from ${url.origin} within ${Math.round(req.timeoutMs / 1000)} s`)));
      r.destroy();
    }, req.timeoutMs);
    r.on('error', (err: NodeJS.ErrnoException) => finish(() => reject(new TransportError(transportMessage(err, url.origin)))));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}
