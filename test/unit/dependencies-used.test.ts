// Every runtime dependency in package.json is imported by the shipped code (src/, bin/): a
// dependency nothing imports is download, install time and attack surface for nothing (issue 8
// found @ldapjs/messages, @ldapjs/controls and @fastify/type-provider-typebox so).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

describe('dependencies', () => {
  it('every dependency in package.json is imported by src/ or bin/', () => {
    const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const code = [...sources(join(root, 'src')), ...sources(join(root, 'bin'))].map((f) => readFileSync(f, 'utf8')).join('\n');
    const imported = new Set([...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*)'((?:@[^/']+\/)?[^/']+)(?:\/[^']*)?'/g)].map((m) => m[1]!));
    assert.deepEqual(Object.keys(dependencies).filter((d) => !imported.has(d)), []);
  });
});
