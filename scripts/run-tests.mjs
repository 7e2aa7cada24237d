#!/usr/bin/env node
// Runs the whole suite with node's built-in test runner (through tsx for TypeScript).
// NODE_EXTRA_CA_CERTS is read only when a process starts, so it is set here, before any test
// process exists, to the test CA that `pretest` (scripts/make-test-ca.ts) wrote. Every test
// server is given that CA (tlsCaCertFile/tlsCaKeyFile), so clients verify TLS as usual.
//
//   node scripts/run-tests.mjs [test file or folder ...] [node test options]
//   KEYHAVEN_TEST_STORAGE=postgres  black-box servers use PostgreSQL instead of SQLite
//   (`npm run test:postgres` runs test/blackbox that way).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const caFile = resolve(root, '.test-ca/ca.pem');
if (!existsSync(caFile)) {
  console.error(`missing ${caFile}: run "tsx scripts/make-test-ca.ts" (npm test does) first`);
  process.exit(1);
}
// Black-box suites run the real `keyhaven` binary (bin/keyhaven.js → dist/), as users do, and
// it starts in a fraction of the time a TypeScript loader needs: build it from these sources.
const build = spawnSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('building dist/ failed');
  process.exit(1);
}

// Node 20's test runner takes no globs, so the suite's files are listed here.
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}
// Arguments are test files or folders (expanded here); options pass through to node.
const args = process.argv.slice(2);
const expand = (arg) =>
  !arg.startsWith('-') && existsSync(resolve(root, arg)) && statSync(resolve(root, arg)).isDirectory()
    ? testFiles(resolve(root, arg)).sort()
    : [arg];
const patterns = args.some((a) => !a.startsWith('-')) ? args.flatMap(expand) : [...args, ...testFiles(resolve(root, 'test')).sort()];
const child = spawn(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=480000', // per test file as a whole (Node 20 applies it to each file's run): a bound, not a pace
    ...patterns,
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caFile,
      LDAPTLS_CACERT: caFile,
      REQUESTS_CA_BUNDLE: caFile,
      KEYHAVEN_TEST_CA_DIR: resolve(root, '.test-ca'),
    },
  },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
