import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { envName, flagName, loadConfig } from '../../src/config/load.js';
import { replaceReference } from '../../src/config/reference.js';
import { StartupError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kh-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const startupError = (code: string, pattern: RegExp) => (err: unknown) =>
  err instanceof StartupError && err.code === code && pattern.test(err.message) && !err.message.includes('\n');

describe('configuration', () => {
  it('has the documented defaults', () => {
    const { config } = loadConfig({ env: {} });
    assert.equal(config.home, join(homedir(), '.keyhaven'));
    assert.equal(config.storage, `sqlite:${join(homedir(), '.keyhaven', 'keyhaven.db')}`);
    assert.equal(config.httpsPort, 8443);
    assert.equal(config.ldapPort, 3389);
    assert.equal(config.ldapsPort, 3636);
    assert.equal(config.agentPort, 50342);
    assert.equal(config.bindAddress, '0.0.0.0');
    assert.equal(config.publicUrl, 'https://localhost:8443');
    assert.equal(config.vaultDnsSuffix, 'vault.localhost');
    assert.equal(config.masterKeyFile, join(homedir(), '.keyhaven', 'master.key'));
    assert.equal(config.passwordScryptLogN, 17);
  });

  it('layers flags over environment over file over defaults', () => {
    const cfg = file('layers.yaml', 'httpsPort: 1001\nldapPort: 1002\nldapsPort: 1003\nhome: /tmp/from-file\n');
    const { config } = loadConfig({
      configFile: cfg,
      env: { KEYHAVEN_LDAP_PORT: '2002', KEYHAVEN_LDAPS_PORT: '2003' },
      flags: { ldapsPort: '3003' },
    });
    assert.equal(config.httpsPort, 1001);
    assert.equal(config.ldapPort, 2002);
    assert.equal(config.ldapsPort, 3003);
    assert.equal(config.home, '/tmp/from-file');
    assert.equal(config.publicUrl, 'https://localhost:1001');
    assert.equal(config.storage, 'sqlite:/tmp/from-file/keyhaven.db');
  });

  it('reads the config file from KEYHAVEN_CONFIG too', () => {
    const cfg = file('envfile.yaml', 'vaultDnsSuffix: vault.example.test\n');
    assert.equal(loadConfig({ env: { KEYHAVEN_CONFIG: cfg } }).config.vaultDnsSuffix, 'vault.example.test');
  });

  it('reads secret keys from _FILE variants without the trailing newline', () => {
    const pw = file('pw', 'correct horse battery\n');
    assert.equal(loadConfig({ env: { KEYHAVEN_ADMIN_PASSWORD_FILE: pw } }).config.adminPassword, 'correct horse battery');
    assert.equal(loadConfig({ env: {}, flags: { adminPasswordFile: pw } }).config.adminPassword, 'correct horse battery');
    const cfg = file('secretfile.yaml', `adminPasswordFile: ${pw}\n`);
    assert.equal(loadConfig({ env: {}, configFile: cfg }).config.adminPassword, 'correct horse battery');
    assert.throws(
      () => loadConfig({ env: { KEYHAVEN_ADMIN_PASSWORD: 'x', KEYHAVEN_ADMIN_PASSWORD_FILE: pw } }),
      startupError('KH_CONFIG_INVALID', /adminPassword is given twice/),
    );
  });

  it('keys that end in File are keys of their own, not _FILE variants', () => {
    const { config } = loadConfig({ env: { KEYHAVEN_MASTER_KEY_FILE: '/srv/kek' } });
    assert.equal(config.masterKeyFile, '/srv/kek');
  });

  it('stops on an unknown key in the file or an unknown flag, with one line', () => {
    const cfg = file('unknown.yaml', 'httpsPort: 1\nnoSuchKey: 2\n');
    assert.throws(() => loadConfig({ env: {}, configFile: cfg }), startupError('KH_CONFIG_UNKNOWN_OPTION', /noSuchKey/));
    assert.throws(() => loadConfig({ env: {}, flags: { bogus: 'x' } }), startupError('KH_CONFIG_UNKNOWN_OPTION', /--bogus/));
  });

  it('warns about unknown KEYHAVEN_ variables', () => {
    const { warnings } = loadConfig({ env: { KEYHAVEN_HTTPS_PROT: '1', KEYHAVEN_CONFIG_DIR: '/x', PATH: '/bin' } });
    assert.deepEqual(warnings, ['unknown environment variable KEYHAVEN_HTTPS_PROT ignored']);
  });

  it('names the option, its source and the problem for bad values, never the value', () => {
    assert.throws(() => loadConfig({ env: { KEYHAVEN_HTTPS_PORT: 'eighty' } }), startupError('KH_CONFIG_INVALID', /httpsPort \(KEYHAVEN_HTTPS_PORT\): must be an integer/));
    assert.throws(() => loadConfig({ env: {}, flags: { httpsPort: '70000' } }), startupError('KH_CONFIG_INVALID', /httpsPort \(flag --https-port\)/));
    const cfg = file('bad.yaml', 'publicUrl: "http://insecure"\n');
    assert.throws(() => loadConfig({ env: {}, configFile: cfg }), startupError('KH_CONFIG_INVALID', /publicUrl \(config file/));
    assert.throws(() => loadConfig({ env: { KEYHAVEN_STORAGE: 'mysql://root:s3cr3t@x/db' } }), (err: unknown) =>
      err instanceof StartupError && !err.message.includes('s3cr3t'));
    assert.throws(() => loadConfig({ env: {}, configFile: file('notyaml.yaml', 'a: [\n') }), startupError('KH_CONFIG_FILE_INVALID', /not valid YAML/));
    assert.throws(() => loadConfig({ env: {}, configFile: join(dir, 'nope.yaml') }), startupError('KH_CONFIG_FILE_UNREADABLE', /ENOENT/));
  });

  it('converts names between forms', () => {
    assert.equal(envName('tlsCaCertFile'), 'KEYHAVEN_TLS_CA_CERT_FILE');
    assert.equal(flagName('tlsCaCertFile'), '--tls-ca-cert-file');
    const { config } = loadConfig({ env: { KEYHAVEN_TLS_NAMES: 'a.example, 10.0.0.1' } });
    assert.deepEqual(config.tlsNames, ['a.example', '10.0.0.1']);
  });

  it('the README configuration reference is generated from the schema and current', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    assert.equal(replaceReference(readme), readme, 'README is stale: run `npm run docs:config`');
  });
});
