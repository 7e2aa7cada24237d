// The CLI frame: global options, az's exit codes, one-line errors, and the login-state files.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { readState, removeState, writeState } from '../../src/cli/config-dir.js';
import type { CliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { InternalError, NotFoundError, StartupError } from '../../src/errors.js';

const items = [
  { name: 'a', enabled: true, tags: { env: 'dev' } },
  { name: 'b', enabled: false, tags: {} },
];

/** A `test` group whose commands print fixed data or throw chosen errors. */
function testCommands(program: Command, ctx: CliContext): void {
  const group = program.command('test').description('Commands for the CLI frame tests.');
  group.command('list').action(() => ctx.print(items));
  group.command('show').argument('<name>').option('--detail', 'more').action((name: string) => {
    ctx.print(items.find((i) => i.name === name));
  });
  group.command('warn').action(() => {
    ctx.warn('careful');
    ctx.print({ ok: true });
  });
  group.command('missing').action(() => {
    throw new NotFoundError('SecretNotFound', "A secret with (name/id) x was not found in this key vault.");
  });
  group.command('fail').action(() => {
    throw new Error('connection refused\nby peer');
  });
  group.command('internal').action(() => {
    throw new InternalError('Internal', 'database password is hunter2');
  });
  group.command('startup').action(() => {
    throw new StartupError('ConfigInvalid', 'unknown key "prot" in keyhaven.yaml');
  });
  group.command('usage').action(() => {
    throw new UsageError('--name and --id are mutually exclusive');
  });
}

async function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'keyhaven', ...args], {
    stdout: (text) => { stdout += text; },
    stderr: (text) => { stderr += text; },
    env: {},
    extraCommands: testCommands,
  });
  return { code, stdout, stderr };
}

/** Exactly one `ERROR: …` line and nothing else on stderr. */
function assertOneErrorLine(stderr: string, pattern?: RegExp): void {
  assert.match(stderr, /^ERROR: [^\n]+\n$/);
  if (pattern) assert.match(stderr, pattern);
}

// main must never end the process itself: bin/keyhaven.js sets process.exitCode from its result.
const realExit = process.exit;
before(() => {
  process.exit = ((code?: number) => {
    throw new Error(`process.exit(${code}) called`);
  }) as typeof process.exit;
});
after(() => {
  process.exit = realExit;
});

describe('output and --query', () => {
  it('prints JSON by default', async () => {
    const r = await run('test', 'list');
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), items);
    assert.equal(r.stderr, '');
  });
  it('takes -o before or after the subcommand', async () => {
    const expected = 'Name    Enabled\n------  ---------\na       True\nb       False\n';
    assert.equal((await run('test', 'list', '-o', 'table')).stdout, expected);
    assert.equal((await run('--output', 'table', 'test', 'list')).stdout, expected);
    assert.equal((await run('test', 'list', '--output', 'tsv')).stdout, 'a\tTrue\t\nb\tFalse\t\n');
    assert.equal((await run('test', 'list', '-o', 'none')).stdout, '');
  });
  it('filters with --query before formatting', async () => {
    assert.deepEqual(JSON.parse((await run('test', 'list', '--query', '[?enabled].name')).stdout), ['a']);
    const r = await run('test', 'show', 'a', '--query', 'tags.env', '-o', 'tsv');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'dev\n');
    assert.equal((await run('test', 'list', '--query', '[].{n: name}', '-o', 'table')).stdout, 'N\n---\na\nb\n');
  });
  it('prints nothing when the query selects nothing', async () => {
    const r = await run('test', 'list', '--query', 'missing');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
  });
  it('treats an invalid query as a usage error', async () => {
    const r = await run('test', 'list', '--query', '[?name ==');
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assertOneErrorLine(r.stderr, /--query/);
  });
  it('treats a query that fails on the data as a usage error', async () => {
    const r = await run('test', 'list', '--query', 'no_such_function(@)');
    assert.equal(r.code, 2);
    assertOneErrorLine(r.stderr, /--query/);
  });
  it('rejects an unknown --output format', async () => {
    const r = await run('test', 'list', '-o', 'xml');
    assert.equal(r.code, 2);
    assertOneErrorLine(r.stderr, /xml/);
  });
  it('hides warnings with --only-show-errors', async () => {
    assert.equal((await run('test', 'warn')).stderr, 'WARNING: careful\n');
    const quiet = await run('test', 'warn', '--only-show-errors');
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.code, 0);
  });
});

describe('usage errors exit 2 with one line', () => {
  for (const [label, args, pattern] of [
    ['unknown option', ['test', 'list', '--bogus'], /unknown option '--bogus'/],
    ['unknown command', ['nosuchgroup'], /unknown command 'nosuchgroup'/],
    ['unknown subcommand', ['test', 'lst'], /unknown command 'lst'/],
    ['missing argument', ['test', 'show'], /missing required argument 'name'/],
    ['excess argument', ['test', 'list', 'extra'], /too many arguments/],
    ['UsageError from a command', ['test', 'usage'], /mutually exclusive/],
  ] as const) {
    it(label, async () => {
      const r = await run(...args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assertOneErrorLine(r.stderr, pattern);
    });
  }
});

describe('errors', () => {
  it('exits 3 for a resource that is not found', async () => {
    const r = await run('test', 'missing');
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'ERROR: A secret with (name/id) x was not found in this key vault.\n');
  });
  it('exits 1 for other errors, on one line and without a stack', async () => {
    const r = await run('test', 'fail');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'ERROR: connection refused by peer\n');
  });
  it('adds the stack with --debug', async () => {
    const r = await run('test', 'fail', '--debug');
    assert.equal(r.code, 1);
    const [first, ...rest] = r.stderr.trimEnd().split('\n');
    assert.equal(first, 'ERROR: connection refused by peer');
    assert.equal(rest[0], 'Error');
    assert.match(rest[1] ?? '', /^\s+at /);
  });
  it('never shows the message of an unexposed error, even with --debug', async () => {
    for (const args of [['test', 'internal'], ['test', 'internal', '--debug']]) {
      const r = await run(...args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^ERROR: An internal error occurred \(Internal\)\.\n/);
      assert.doesNotMatch(r.stderr, /hunter2/);
    }
  });
  it('prints a StartupError as its message', async () => {
    const r = await run('test', 'startup');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'ERROR: unknown key "prot" in keyhaven.yaml\n');
  });
});

describe('help and version', () => {
  it('shows top-level help with the registered groups', async () => {
    const r = await run('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: keyhaven /);
    for (const group of ['serve', 'admin', 'audit', 'test']) assert.match(r.stdout, new RegExp(`\\n  ${group}\\b`));
    assert.equal(r.stderr, '');
  });
  it('shows group and command help, with the global options', async () => {
    for (const args of [['test', '--help'], ['test', '-h'], ['admin', '--help'], ['test', 'show', '--help']]) {
      const r = await run(...args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /^Usage: keyhaven /);
      assert.match(r.stdout, /Global Options:[\s\S]*--output[\s\S]*--query/);
    }
  });
  it('shows a group\'s help when no subcommand is given, as az does', async () => {
    for (const args of [['test'], []]) {
      const r = await run(...args);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Usage: keyhaven/);
      assert.equal(r.stderr, '');
    }
  });
  it('prints the package version', async () => {
    const r = await run('--version');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\S*\n$/);
  });
});

describe('login-state directory', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'keyhaven-cli-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('creates the directory 0700 and files 0600, and round-trips state', async () => {
    const env = { KEYHAVEN_CONFIG_DIR: join(base, 'nested', 'config') };
    assert.equal(await readState('profile', env), undefined);
    await writeState('profile', { user: 'admin', token: 't' }, env);
    assert.equal((await stat(env.KEYHAVEN_CONFIG_DIR)).mode & 0o777, 0o700);
    assert.equal((await stat(join(env.KEYHAVEN_CONFIG_DIR, 'profile.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await readState('profile', env), { user: 'admin', token: 't' });

    await writeState('profile', { user: 'other' }, env);
    assert.deepEqual(await readState('profile', env), { user: 'other' });
    assert.equal((await stat(join(env.KEYHAVEN_CONFIG_DIR, 'profile.json'))).mode & 0o777, 0o600);

    await removeState('profile', env);
    await removeState('profile', env); // removing what is gone is fine
    assert.equal(await readState('profile', env), undefined);
  });
  it('defaults to ~/.config/keyhaven', async () => {
    const env = { HOME: base };
    await writeState('accounts', [], env);
    assert.equal((await stat(join(base, '.config', 'keyhaven', 'accounts.json'))).mode & 0o777, 0o600);
  });
  it('rejects names that would leave the directory', async () => {
    const env = { KEYHAVEN_CONFIG_DIR: base };
    await assert.rejects(writeState('../escape', {}, env), /Invalid state name/);
    await assert.rejects(readState('a/b', env), /Invalid state name/);
  });
});
