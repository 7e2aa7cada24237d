// The layers of DESIGN.md ("The parts, and how a request flows"), checked on the sources'
// import statements (type-only ones included): a protocol face reaches storage only through a
// core service; the core never imports a face, nor the server assembly that builds it
// (src/server/: the core says what it needs, the assembly provides it).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');
const FACES = ['http', 'ldap', 'cli', 'agent', 'sdk'];
const CORE = ['directory', 'tokens', 'audit', 'crypto', 'keys', 'storage', 'authz', 'vault', 'resources', 'log', 'config'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Each relative import of a file, as the top-level src/ directory it lands in and the path. */
function imports(file: string): { top: string; path: string }[] {
  const text = readFileSync(file, 'utf8');
  const out: { top: string; path: string }[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    const target = relative(SRC, resolve(dirname(file), spec));
    out.push({ top: target.split('/')[0]!, path: target });
  }
  return out;
}

const layer = (file: string) => relative(SRC, file).split('/')[0]!;

test('faces never import storage; the core never imports a face or the server assembly', () => {
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const from = layer(file);
    for (const { top, path } of imports(file)) {
      if (FACES.includes(from) && top === 'storage') violations.push(`${relative(SRC, file)} → ${path} (a face asks a service, never storage)`);
      if (CORE.includes(from) && (FACES.includes(top) || top === 'server')) violations.push(`${relative(SRC, file)} → ${path} (the core must not know its faces or how it is assembled)`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the checker sees the imports it checks', () => {
  // If the import pattern stopped matching, the test above would pass vacuously.
  const seen = imports(join(SRC, 'http/server.ts')).map((i) => i.top);
  assert.ok(seen.includes('server') && seen.includes('log'), seen.join(','));
});

/** A source file's text without its comments (so a comment may name what the code must not do). */
function code(file: string): string {
  return readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

test('the directory core is handed its parts: nothing in src/directory/ imports the server assembly or its CoreServices', () => {
  const violations: string[] = [];
  for (const file of sources(join(SRC, 'directory'))) {
    for (const { top, path } of imports(file)) if (top === 'server') violations.push(`${relative(SRC, file)} → ${path}`);
    if (/\bCoreServices\b/.test(code(file))) violations.push(`${relative(SRC, file)} names CoreServices (say what it needs: DirectoryDeps)`);
  }
  assert.deepEqual(violations, []);
});

test('the Graph role routes and the health routes ask services, never storage', () => {
  for (const file of ['http/graph/role-routes.ts', 'http/health-routes.ts']) {
    const tops = imports(join(SRC, file)).map((i) => i.top);
    assert.ok(!tops.includes('storage'), `${file} imports storage`);
  }
});

test('the LDAP face reads the directory only through a reader scoped to its caller', () => {
  // system() is every right (start-up and master-key admin commands); readModel() is every
  // object with every attribute. LDAP gets scopedReader(caller) and ldapNames() instead
  // (src/directory/scoped-reader.ts), so what a caller sees follows from the capability.
  const violations: string[] = [];
  for (const file of sources(join(SRC, 'ldap'))) {
    const text = code(file);
    for (const m of text.matchAll(/\.(system|readModel)\s*\(/g)) violations.push(`${relative(SRC, file)} calls ${m[1]}()`);
    if (/\bDirectoryModel\b/.test(text) && /\bnew\s+DirectoryModel\b|\.current\(\)/.test(text)) violations.push(`${relative(SRC, file)} loads the read model itself`);
  }
  assert.deepEqual(violations, []);
});

test('core errors become LDAP results in one place (src/ldap/ldap-errors.ts)', () => {
  // Mapping by kind or code anywhere else in the face would let two answers drift apart.
  const ONE_PLACE = join(SRC, 'ldap/ldap-errors.ts');
  const violations: string[] = [];
  for (const file of sources(join(SRC, 'ldap'))) {
    if (file === ONE_PLACE) continue;
    const text = code(file);
    if (/\bisKeyhavenError\b|instanceof\s+KeyhavenError\b/.test(text)) violations.push(`${relative(SRC, file)} inspects core errors`);
    // (Node's own error codes, EADDRINUSE and the like, are no core error's.)
    if (/\b(err|error|e|cause)\.kind\s*[!=]==|\.code\s*[!=]==\s*'KH_|\bKH_[A-Z_]+'?\s*:/.test(text)) violations.push(`${relative(SRC, file)} branches on an error's kind or code`);
  }
  assert.deepEqual(violations, []);
  // And the one place exists and is what the face and the view call.
  const callers = sources(join(SRC, 'ldap')).filter((f) => imports(f).some((i) => i.path === 'ldap/ldap-errors.js')).map((f) => relative(SRC, f)).sort();
  assert.deepEqual(callers, ['ldap/server/result-codes.ts', 'ldap/view/ldap-view.ts', 'ldap/view/ldap-writes.ts']);
});

test('LdapResultError is one of the core errors', async () => {
  const { KeyhavenError, LdapResultError } = await import('../../src/errors.js');
  const err = new LdapResultError(50, 'no');
  assert.ok(err instanceof KeyhavenError);
  assert.equal(err.kind, 'Forbidden');
  assert.equal(err.resultCode, 50);
});
