// TLS material for the listeners: a local CA (generated on first start unless one is
// configured) and a server certificate it issues, kept in $KEYHAVEN_HOME/tls. The CA
// certificate is always published at tls/ca.pem, the fixed place clients are told to trust.
//
// Files: ca.pem + ca-key.pem (generated CA; with a configured CA only ca.pem, a copy of its
// certificate), server.pem (leaf followed by the CA chain) + server-key.pem. Every file is
// written atomically, and in an order such that an interrupted start leaves a state the next
// start repairs by itself (see ensureGeneratedCa and ensureTls).
import {
  X509Certificate,
  KeyObject,
  createPrivateKey,
  randomBytes,
  type webcrypto,
} from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isIP } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { domainToASCII } from 'node:url';
import type * as X509 from '@peculiar/x509';
import { StartupError } from '../errors.js';

export interface TlsOptions {
  tlsDir: string;
  caCertFile?: string;
  caKeyFile?: string;
  certFile?: string;
  keyFile?: string;
  extraNames: string[];
  hostname: string;
  vaultDnsSuffix: string;
  now?: Date;
}

export interface TlsMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_LIFETIME_MS = 3652 * DAY_MS; // ~10 years
// 397 days: the longest lifetime browsers and Apple platforms still accept for a TLS leaf.
const SERVER_LIFETIME_MS = 397 * DAY_MS;
const RENEW_BEFORE_MS = 30 * DAY_MS;
// Backdate notBefore a little so a client whose clock runs slightly behind accepts a fresh cert.
const BACKDATE_MS = 60 * 60 * 1000;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

// ---------------------------------------------------------------------------------------------
// @peculiar/x509 resolves its algorithm classes through tsyringe, which needs the Reflect
// metadata API (the library's README: import 'reflect-metadata' first). Imported lazily so
// that modules which never issue certificates do not load either.

let x509Loaded: Promise<typeof X509> | undefined;

function loadX509(): Promise<typeof X509> {
  x509Loaded ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(crypto);
    return x509;
  })();
  return x509Loaded;
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * The names every issued server certificate must carry (RFC 5280 §4.2.1.6 subjectAltName):
 * localhost, the host name, the vault wildcard and its base, configured extras.
 */
export function requiredServerNames(
  opts: Pick<TlsOptions, 'extraNames' | 'hostname' | 'vaultDnsSuffix'>,
): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips = ['127.0.0.1', '::1'];
  const add = (raw: string, strict: boolean): void => {
    const name = raw.trim().replace(/^\[(.*)\]$/, '$1');
    const ip = normalizeIp(name);
    const host = ip === undefined ? normalizeDnsName(name) : undefined;
    if (ip !== undefined) {
      if (!ips.includes(ip)) ips.push(ip);
    } else if (host !== undefined) {
      if (!dns.includes(host)) dns.push(host);
    } else if (strict) {
      throw new StartupError('KH_TLS_NAME_INVALID', `TLS name "${raw}" is neither a DNS name nor an IP address`);
    }
  };
  add('localhost', true);
  add(opts.hostname, false); // an odd machine name must not stop the start; it is just left out
  add(`*.${opts.vaultDnsSuffix}`, true);
  add(opts.vaultDnsSuffix, true);
  for (const name of opts.extraNames) add(name, true);
  return { dns, ips };
}

/** Canonical text of an IP address (compressed IPv6), or undefined when it is not one. */
function normalizeIp(name: string): string | undefined {
  const family = isIP(name);
  if (family === 0) return undefined;
  try {
    const host = new URL(family === 6 ? `http://[${name}]/` : `http://${name}/`).hostname;
    return host.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined; // e.g. an IPv6 zone id, which a certificate cannot carry
  }
}

/** Lower-case ASCII (punycode) DNS name, optionally with a leading "*." label, or undefined. */
function normalizeDnsName(name: string): string | undefined {
  const wildcard = name.startsWith('*.');
  const ascii = domainToASCII(name.slice(wildcard ? 2 : 0).replace(/\.$/, ''));
  const labels = ascii.split('.');
  const ok = ascii.length > 0 && ascii.length <= 253 &&
    labels.every((l) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l));
  return ok ? (wildcard ? `*.${ascii}` : ascii) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Files

function fsCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

/** The file's text, or undefined when it does not exist. */
function readOptional(file: string, code: string, what: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (fsCode(err) === 'ENOENT') return undefined;
    throw new StartupError(code, `cannot read ${what} ${file}: ${fsCode(err)}`);
  }
}

function readRequired(file: string, code: string, what: string): string {
  const text = readOptional(file, code, what);
  if (text === undefined) throw new StartupError(code, `cannot read ${what} ${file}: ENOENT`);
  return text;
}

/** Temp file in the same directory, fsync, rename: a reader sees the old file or the new one. */
function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* never created or already renamed */ }
    throw new StartupError('KH_TLS_WRITE_FAILED', `cannot write ${file}: ${fsCode(err)}`);
  }
  syncDir(dirname(file));
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* best effort: durability of the rename, not correctness */ }
}

function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    throw new StartupError('KH_TLS_WRITE_FAILED', `cannot rename ${from} to ${to}: ${fsCode(err)}`);
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if (fsCode(err) !== 'ENOENT') throw new StartupError('KH_TLS_WRITE_FAILED', `cannot remove ${file}: ${fsCode(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing. Messages name the file, never its content: a key file's bytes are secret.

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseCerts(text: string, file: string, code: string, what: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new StartupError(code, `${what} ${file} holds no PEM certificate`);
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    throw new StartupError(code, `${what} ${file} is not a valid X.509 certificate`);
  }
}

function parseKey(text: string, file: string, code: string, what: string): KeyObject {
  try {
    // Accepts PKCS#8 and the older SEC1 / PKCS#1 PEM forms; an encrypted key throws.
    return createPrivateKey(text);
  } catch {
    throw new StartupError(code, `${what} ${file} is not an unencrypted PEM private key`);
  }
}

function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false; // different key types
  }
}

/** PEM text of certificates, normalised (no stray text between blocks). */
function pemOf(certs: X509Certificate[]): string {
  return certs.map((c) => c.toString()).join('');
}

// ---------------------------------------------------------------------------------------------
// The CA

interface Ca {
  certs: X509Certificate[]; // the signing CA first, then any certificates above it
  key: KeyObject;
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Loads a CA certificate + key pair and checks it can issue: the certificate is a CA
 * (basicConstraints cA, RFC 5280 §4.2.1.9) allowed to sign certificates (keyUsage keyCertSign
 * when keyUsage is present, §4.2.1.3), and the key is its key. Validity is the caller's call.
 */
async function loadCa(certFile: string, keyFile: string): Promise<Ca> {
  const certs = parseCerts(readRequired(certFile, 'KH_TLS_CA_UNREADABLE', 'TLS CA certificate file'),
    certFile, 'KH_TLS_CA_INVALID', 'TLS CA certificate file');
  const key = parseKey(readRequired(keyFile, 'KH_TLS_CA_UNREADABLE', 'TLS CA key file'),
    keyFile, 'KH_TLS_CA_KEY_INVALID', 'TLS CA key file');
  const cert = certs[0]!;
  if (!cert.ca) {
    throw new StartupError('KH_TLS_CA_INVALID', `TLS CA certificate file ${certFile} is not a CA certificate (basicConstraints cA is not set)`);
  }
  const x509 = await loadX509();
  const parsed = new x509.X509Certificate(cert.raw);
  const usage = parsed.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)) {
    throw new StartupError('KH_TLS_CA_INVALID', `TLS CA certificate file ${certFile} may not sign certificates (keyUsage lacks keyCertSign)`);
  }
  signingParams(key, keyFile); // fails early on an unsupported key type
  if (!keyMatches(cert, key)) {
    throw new StartupError('KH_TLS_CA_KEY_MISMATCH', `TLS CA key file ${keyFile} is not the private key of ${certFile}`);
  }
  return { certs, key, pem: pemOf(certs), notBefore: parsed.notBefore, notAfter: parsed.notAfter };
}

/** WebCrypto import and signature parameters for a CA key: EC (hash sized to the curve) or RSA. */
function signingParams(key: KeyObject, file: string): {
  importAlg: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signAlg: webcrypto.EcdsaParams | webcrypto.Algorithm;
} {
  if (key.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importAlg: alg, signAlg: alg };
  }
  const curves: Record<string, [string, string]> = {
    prime256v1: ['P-256', 'SHA-256'],
    secp384r1: ['P-384', 'SHA-384'],
    secp521r1: ['P-521', 'SHA-512'],
  };
  const curve = key.asymmetricKeyType === 'ec' ? curves[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (!curve) {
    throw new StartupError('KH_TLS_CA_KEY_INVALID', `TLS CA key file ${file} is not an RSA or EC (P-256, P-384, P-521) key`);
  }
  return { importAlg: { name: 'ECDSA', namedCurve: curve[0] }, signAlg: { name: 'ECDSA', hash: curve[1] } };
}

function keyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

async function createCa(commonName: string, now: Date): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName.replace(/[,+="\\<>;#]/g, '\\$&')}`,
    keys,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_LIFETIME_MS),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      // RFC 5280 §4.2.1.9: critical in CA certificates. pathLen 0: it only ever issues leaves.
      new x509.BasicConstraintsExtension(true, 0, true),
      // §4.2.1.3: a CA signs certificates and CRLs; marked critical as the RFC recommends.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      // §4.2.1.2: MUST appear in CA certificates, so issued certificates can point at it.
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pemOf([new X509Certificate(cert.toString('pem'))]), keyPem: keyPem(keys.privateKey) };
}

/** A new self-signed ECDSA P-256 CA, valid about ten years. */
export async function generateCa(commonName: string): Promise<{ certPem: string; keyPem: string }> {
  return createCa(commonName, new Date());
}

interface Paths {
  ca: string;
  caKey: string;
  cert: string;
  key: string;
  asideCa: string; // a generated CA moved aside while a configured one is in use
  asideCaKey: string;
}

/**
 * The generated CA in tls/: reused while valid, created when absent. Invariant kept across
 * crashes: ca-key.pem exists only next to its own ca.pem (the cert is written first, the key
 * last; an expiring CA loses its key first), so "no ca-key.pem" always means "make one".
 */
async function ensureGeneratedCa(paths: Paths, now: Date): Promise<Ca> {
  await restoreAsideCa(paths, now);
  if (readOptional(paths.caKey, 'KH_TLS_CA_UNREADABLE', 'TLS CA key file') !== undefined) {
    let ca: Ca;
    try {
      ca = await loadCa(paths.ca, paths.caKey);
    } catch (err) {
      // Only tampering gets here (see the invariant): say how to start over.
      if (!(err instanceof StartupError)) throw err;
      throw new StartupError(err.code, `${err.message}; remove ${paths.ca} and ${paths.caKey} to generate a new CA`);
    }
    if (ca.notAfter.getTime() - now.getTime() > RENEW_BEFORE_MS) return ca;
    removeFile(paths.caKey); // expired or about to: replace it, key first (the invariant)
  }
  const created = await createCa(`Keyhaven Local CA ${randomBytes(4).toString('hex')}`, now);
  writeAtomic(paths.ca, created.certPem, 0o644);
  writeAtomic(paths.caKey, created.keyPem, 0o600);
  return loadCa(paths.ca, paths.caKey);
}

/**
 * Publishes a configured CA at tls/ca.pem. A generated CA found there is moved aside rather
 * than deleted (its key may be the only copy), and comes back if the configuration is removed.
 */
function publishCa(paths: Paths, pem: string, cert: X509Certificate): void {
  const keyText = readOptional(paths.caKey, 'KH_TLS_CA_UNREADABLE', 'TLS CA key file');
  if (keyText !== undefined) {
    let key: KeyObject | undefined;
    try { key = createPrivateKey(keyText); } catch { /* not usable: move it aside all the same */ }
    if (!key || !keyMatches(cert, key)) {
      const oldCa = readOptional(paths.ca, 'KH_TLS_CA_UNREADABLE', 'TLS CA certificate file');
      if (oldCa !== undefined) writeAtomic(paths.asideCa, oldCa, 0o644);
      moveFile(paths.caKey, paths.asideCaKey);
    }
  }
  if (readOptional(paths.ca, 'KH_TLS_CA_UNREADABLE', 'TLS CA certificate file') !== pem) {
    writeAtomic(paths.ca, pem, 0o644);
  }
}

/** Undoes publishCa's move when no CA is configured any more (each step safe to interrupt). */
async function restoreAsideCa(paths: Paths, now: Date): Promise<void> {
  if (readOptional(paths.caKey, 'KH_TLS_CA_UNREADABLE', 'TLS CA key file') !== undefined) return;
  const certText = readOptional(paths.asideCa, 'KH_TLS_CA_UNREADABLE', 'TLS CA certificate file');
  if (certText === undefined || readOptional(paths.asideCaKey, 'KH_TLS_CA_UNREADABLE', 'TLS CA key file') === undefined) return;
  try {
    const ca = await loadCa(paths.asideCa, paths.asideCaKey);
    if (ca.notAfter <= now) return;
  } catch {
    return; // unusable: a fresh CA is generated instead
  }
  writeAtomic(paths.ca, certText, 0o644);
  moveFile(paths.asideCaKey, paths.caKey);
  removeFile(paths.asideCa);
}

// ---------------------------------------------------------------------------------------------
// The server certificate

/** The existing leaf + key when they can be kept: see the re-issue rules in ensureTls. */
async function reusableServerCert(
  paths: Paths, ca: Ca, names: { dns: string[]; ips: string[] }, now: Date,
): Promise<{ leaf: X509Certificate; keyPem: string } | undefined> {
  const certText = readOptional(paths.cert, 'KH_TLS_CERT_UNREADABLE', 'TLS certificate file');
  const keyText = readOptional(paths.key, 'KH_TLS_CERT_UNREADABLE', 'TLS key file');
  if (certText === undefined || keyText === undefined) return undefined;
  try {
    // Anything unreadable here is our own half-finished or damaged output: issue afresh.
    const leaf = new X509Certificate(certText.match(PEM_CERT)![0]);
    const caCert = ca.certs[0]!;
    if (!keyMatches(leaf, createPrivateKey(keyText))) return undefined;
    if (!leaf.checkIssued(caCert) || !leaf.verify(caCert.publicKey)) return undefined;
    const x509 = await loadX509();
    const parsed = new x509.X509Certificate(leaf.raw);
    if (parsed.notBefore > now || parsed.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) return undefined;
    const san = parsed.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
    const dns = new Set(san.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase()));
    const ips = new Set(san.filter((n) => n.type === 'ip').map((n) => normalizeIp(n.value)));
    if (!names.dns.every((n) => dns.has(n)) || !names.ips.every((n) => ips.has(n))) return undefined;
    return { leaf, keyPem: keyText };
  } catch {
    return undefined;
  }
}

async function issueServerCert(
  ca: Ca, names: { dns: string[]; ips: string[] }, now: Date,
): Promise<{ leaf: X509Certificate; keyPem: string }> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certs[0]!.raw);
  const { importAlg, signAlg } = signingParams(ca.key, 'CA key');
  const signingKey = await crypto.subtle.importKey(
    'pkcs8', ca.key.export({ type: 'pkcs8', format: 'der' }), importAlg, false, ['sign'],
  );
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  // A leaf outliving its issuer would fail path validation anyway (RFC 5280 §6.1.3).
  const notAfter = new Date(Math.min(notBefore.getTime() + SERVER_LIFETIME_MS, ca.notAfter.getTime()));
  // §4.2.1.1: the authority key identifier must equal the issuer's subject key identifier.
  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = caSki
    ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=Keyhaven server',
    // The issuer's subject as encoded in its certificate, byte for byte: name chaining
    // (§4.1.2.4, §7.1) must not depend on a re-encoding.
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: signAlg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true), // §4.2.1.9: not a CA
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), // ECDHE + ECDSA
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), // §4.2.1.12
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      aki,
    ],
  });
  return { leaf: new X509Certificate(cert.toString('pem')), keyPem: keyPem(keys.privateKey) };
}

// ---------------------------------------------------------------------------------------------

/**
 * Makes sure tls/ holds a usable CA and server certificate and returns them. The server
 * certificate is kept until it expires within 30 days, lacks a required name, or was not
 * issued by the current CA; then a new one (with a new key) is issued.
 */
export async function ensureTls(opts: TlsOptions): Promise<TlsMaterial> {
  const now = opts.now ?? new Date();
  if (!opts.caCertFile !== !opts.caKeyFile) {
    throw new StartupError('KH_TLS_CA_INCOMPLETE', 'tlsCaCertFile and tlsCaKeyFile must be given together');
  }
  if (!opts.certFile !== !opts.keyFile) {
    throw new StartupError('KH_TLS_CERT_INCOMPLETE', 'tlsCertFile and tlsKeyFile must be given together');
  }
  try {
    mkdirSync(opts.tlsDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StartupError('KH_TLS_DIR_UNUSABLE', `cannot create TLS directory ${opts.tlsDir}: ${fsCode(err)}`);
  }
  const paths: Paths = {
    ca: join(opts.tlsDir, 'ca.pem'),
    caKey: join(opts.tlsDir, 'ca-key.pem'),
    cert: join(opts.tlsDir, 'server.pem'),
    key: join(opts.tlsDir, 'server-key.pem'),
    asideCa: join(opts.tlsDir, 'generated-ca.pem'),
    asideCaKey: join(opts.tlsDir, 'generated-ca-key.pem'),
  };
  const configured = opts.caCertFile && opts.caKeyFile ? await loadCa(opts.caCertFile, opts.caKeyFile) : undefined;
  if (configured && (configured.notBefore > now || configured.notAfter <= now)) {
    throw new StartupError('KH_TLS_CA_INVALID', `TLS CA certificate file ${opts.caCertFile} is not valid now (valid ${configured.notBefore.toISOString()} to ${configured.notAfter.toISOString()})`);
  }

  if (opts.certFile && opts.keyFile) {
    // A ready certificate is served as is. Clients are pointed at the configured CA or, lacking
    // one, at the top of the configured chain.
    const certPem = readRequired(opts.certFile, 'KH_TLS_CERT_UNREADABLE', 'TLS certificate file');
    const keyText = readRequired(opts.keyFile, 'KH_TLS_CERT_UNREADABLE', 'TLS key file');
    const chain = parseCerts(certPem, opts.certFile, 'KH_TLS_CERT_INVALID', 'TLS certificate file');
    const key = parseKey(keyText, opts.keyFile, 'KH_TLS_KEY_INVALID', 'TLS key file');
    if (!keyMatches(chain[0]!, key)) {
      throw new StartupError('KH_TLS_KEY_MISMATCH', `TLS key file ${opts.keyFile} is not the private key of ${opts.certFile}`);
    }
    const caCerts = configured?.certs ?? [chain.at(-1)!];
    const caCertPem = pemOf(caCerts);
    publishCa(paths, caCertPem, caCerts[0]!);
    return { caCertPem, certPem, keyPem: keyText, caFile: paths.ca, certFile: opts.certFile, keyFile: opts.keyFile };
  }

  let ca: Ca;
  if (configured) {
    publishCa(paths, configured.pem, configured.certs[0]!);
    ca = configured;
  } else {
    ca = await ensureGeneratedCa(paths, now);
  }
  const names = requiredServerNames(opts);
  let server = await reusableServerCert(paths, ca, names, now);
  if (!server) {
    server = await issueServerCert(ca, names, now);
    // Key first: a crash in between leaves a key that does not match server.pem, which the
    // next start detects and re-issues.
    writeAtomic(paths.key, server.keyPem, 0o600);
  }
  const certPem = pemOf([server.leaf]) + ca.pem;
  if (readOptional(paths.cert, 'KH_TLS_CERT_UNREADABLE', 'TLS certificate file') !== certPem) {
    writeAtomic(paths.cert, certPem, 0o644);
  }
  return { caCertPem: ca.pem, certPem, keyPem: server.keyPem, caFile: paths.ca, certFile: paths.cert, keyFile: paths.key };
}
