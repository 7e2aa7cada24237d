// The --output formats against what the Azure CLI (knack) prints for the same data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatOutput } from '../../src/cli/output.js';

const secrets = [
  { id: 'https://v/secrets/a', name: 'a', enabled: true, version: 3, tags: { env: 'dev' }, owners: ['x', 'y'], expires: null },
  { name: 'longer-name', enabled: false, contentType: 'text/plain' },
];

describe('json / jsonc', () => {
  it('indents by two spaces and ends with a newline', () => {
    assert.equal(formatOutput({ a: [1, { b: null }] }, 'json'), '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}\n');
    assert.equal(formatOutput({ a: 1 }, 'jsonc'), formatOutput({ a: 1 }, 'json'));
  });
  it('prints scalars as JSON', () => {
    assert.equal(formatOutput('s', 'json'), '"s"\n');
    assert.equal(formatOutput(false, 'json'), 'false\n');
    assert.equal(formatOutput([], 'json'), '[]\n');
  });
  it('prints nothing for a command without a result', () => {
    for (const format of ['json', 'table', 'tsv', 'yaml'] as const) {
      assert.equal(formatOutput(null, format), '');
      assert.equal(formatOutput(undefined, format), '');
    }
  });
});

describe('table', () => {
  it('shows scalar columns in first-seen order, skipping id, nulls and nested values', () => {
    assert.equal(
      formatOutput(secrets, 'table'),
      [
        'Name         Enabled    Version    ContentType',
        '-----------  ---------  ---------  -------------',
        'a            True       3',
        'longer-name  False                 text/plain',
        '',
      ].join('\n'),
    );
  });
  it('shows one object as one row', () => {
    assert.equal(formatOutput({ name: 'v1', location: 'here', props: {} }, 'table'), 'Name    Location\n------  ----------\nv1      here\n');
  });
  it('shows scalars and lists of scalars under Result', () => {
    assert.equal(formatOutput('abc', 'table'), 'Result\n--------\nabc\n');
    assert.equal(formatOutput(['a', 'b'], 'table'), 'Result\n--------\na\nb\n');
  });
  it('shows lists of lists as numbered columns', () => {
    assert.equal(formatOutput([['a', 1], ['b', 2]], 'table'), 'Column1    Column2\n---------  ---------\na          1\nb          2\n');
  });
  it('prints an empty line for an empty list', () => {
    assert.equal(formatOutput([], 'table'), '\n');
  });
  it('refuses a result with nothing to show', () => {
    assert.throws(() => formatOutput([{ nested: { a: 1 } }], 'table'), /Unable to extract fields for table/);
  });
});

describe('tsv', () => {
  it('prints one line per item, values only, nested lists as counts and objects as empty fields', () => {
    assert.equal(
      formatOutput(secrets, 'tsv'),
      'https://v/secrets/a\ta\tTrue\t3\t\t2\tNone\nlonger-name\tFalse\ttext/plain\n',
    );
  });
  it('prints a single object as one line and scalars bare', () => {
    assert.equal(formatOutput({ a: 'x', b: 2 }, 'tsv'), 'x\t2\n');
    assert.equal(formatOutput('token-value', 'tsv'), 'token-value\n');
    assert.equal(formatOutput(true, 'tsv'), 'true\n');
    assert.equal(formatOutput([1, 'b', false], 'tsv'), '1\nb\nfalse\n');
    assert.equal(formatOutput([[1, null, true]], 'tsv'), '1\tNone\tTrue\n');
  });
});

describe('yaml / none', () => {
  it('emits YAML', () => {
    assert.equal(formatOutput([{ name: 'a', tags: { env: 'dev' } }], 'yaml'), '- name: a\n  tags:\n    env: dev\n');
  });
  it('prints nothing for none', () => {
    assert.equal(formatOutput(secrets, 'none'), '');
  });
});
