// `npm ci` on Node 20 prints no EBADENGINE warning: every package the lock file installs admits
// this Node and the oldest Node package.json's `engines` promises. Checked with npm's own check
// (npm-install-checks' checkEngine, what `npm ci` runs per package, with its semver) on the
// `engines` the lock file records — no network, no install. Packages for another platform
// (optional, skipped by npm before the engine check) are left out the same way npm leaves them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const npmRoot = join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm');
const fromNpm = createRequire(join(npmRoot, 'package.json'));
const checks = fromNpm('npm-install-checks') as {
  checkEngine(target: { engines?: Record<string, string>; _id?: string }, npmVersion: string | null, nodeVersion: string | null): void;
  checkPlatform(target: { os?: string[]; cpu?: string[]; libc?: string[] }): void;
};
const semver = fromNpm('semver') as { minVersion(range: string): { version: string } | null };
const npmVersion = (JSON.parse(readFileSync(join(npmRoot, 'package.json'), 'utf8')) as { version: string }).version;

interface LockEntry {
  version?: string;
  engines?: Record<string, string> | string[];
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optional?: boolean;
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

function refusals(nodeVersion: string): string[] {
  const refused: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || !entry.engines || Array.isArray(entry.engines)) continue;
    try {
      checks.checkPlatform(entry);
    } catch {
      continue; // another OS/CPU: npm does not install it, so never checks its engines
    }
    try {
      checks.checkEngine({ engines: entry.engines, _id: `${path}@${entry.version}` }, npmVersion, nodeVersion);
    } catch (err) {
      refused.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${entry.engines.node}`);
    }
  }
  return refused;
}

describe('dependency engines', () => {
  it('every package in package-lock.json admits the running Node (npm ci prints no EBADENGINE)', () => {
    assert.deepEqual(refusals(process.versions.node), []);
  });

  it(`every package admits the oldest Node that package.json's engines (${pkg.engines.node}) allows`, () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    assert.match(oldest, /^20\./);
    assert.deepEqual(refusals(oldest), []);
  });
});
