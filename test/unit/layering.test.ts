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
