// Audience resolution for v1 `resource=` and v2 `scope=` (DESIGN.md, "Audiences").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../../src/errors.js';
import { AUDIENCE_ERRORS, Audiences, type AudienceKind } from '../../src/tokens/audiences.js';

const APP = '4a7c9e1b-2d3f-4a5b-8c6d-7e8f9a0b1c2d';
const lookups: string[] = [];
const audiences = new Audiences({
  publicUrl: 'https://KH.example.test:8443/',
  vaultDnsSuffix: 'vault.localhost',
  httpsPort: 8443,
  applicationExists: async (appId) => {
    lookups.push(appId);
    return appId === APP;
  },
});

// requested → [kind, aud]
const resources: [string, AudienceKind, string][] = [
  ['https://kh.example.test:8443/', 'management', 'https://kh.example.test:8443/'],
  ['https://kh.example.test:8443', 'management', 'https://kh.example.test:8443'],
  ['https://KH.Example.Test:8443/', 'management', 'https://kh.example.test:8443/'],
  ['https://management.azure.com/', 'management', 'https://management.azure.com/'],
  ['https://management.azure.com', 'management', 'https://management.azure.com'],
  ['HTTPS://MANAGEMENT.AZURE.COM/', 'management', 'https://management.azure.com/'],
  ['https://management.core.windows.net/', 'management', 'https://management.core.windows.net/'],
  ['https://management.core.windows.net', 'management', 'https://management.core.windows.net'],
  ['https://vault.localhost:8443', 'vault', 'https://vault.localhost:8443'],
  ['https://vault.localhost:8443/', 'vault', 'https://vault.localhost:8443/'],
  ['https://vault.azure.net', 'vault', 'https://vault.azure.net'],
  ['https://Vault.Azure.Net/', 'vault', 'https://vault.azure.net/'],
  ['https://kh.example.test:8443/graph/', 'directory', 'https://kh.example.test:8443/graph/'],
  ['https://kh.example.test:8443/graph', 'directory', 'https://kh.example.test:8443/graph'],
  ['https://graph.microsoft.com', 'directory', 'https://graph.microsoft.com'],
  ['https://graph.microsoft.com/', 'directory', 'https://graph.microsoft.com/'],
  [`api://${APP}`, 'application', `api://${APP}`],
  [`api://${APP.toUpperCase()}/`, 'application', `api://${APP}/`],
];

// requested scope → [kind, aud]
const scopes: [string, AudienceKind, string][] = [
  ['https://kh.example.test:8443/.default', 'management', 'https://kh.example.test:8443'],
  ['https://kh.example.test:8443//.default', 'management', 'https://kh.example.test:8443/'],
  ['https://management.azure.com/.default', 'management', 'https://management.azure.com'],
  ['https://management.azure.com//.default', 'management', 'https://management.azure.com/'],
  ['https://management.core.windows.net//.default', 'management', 'https://management.core.windows.net/'],
  ['https://vault.azure.net/.default', 'vault', 'https://vault.azure.net'],
  ['https://vault.localhost:8443/.default', 'vault', 'https://vault.localhost:8443'],
  ['https://graph.microsoft.com/.default', 'directory', 'https://graph.microsoft.com'],
  ['https://kh.example.test:8443/graph//.default', 'directory', 'https://kh.example.test:8443/graph/'],
  [`api://${APP}/.default`, 'application', `api://${APP}`],
  [`openid profile offline_access https://management.azure.com//.default`, 'management', 'https://management.azure.com/'],
];

const unknownResources = [
  '',
  'https://management.azure.com.evil.test/',
  'https://kh.example.test:8443/other/',
  'https://kh.example.test/',
  'https://vault.azure.net.evil/',
  'https://vault.localhost',
  'https://storage.azure.com/',
  'https://graph.windows.net/',
  `api://${APP}x`,
  `api://${APP}/path`,
  'api://00000000-0000-4000-8000-000000000000',
  'https://management.azure.com/ ',
  ' https://management.azure.com/',
  'https://management.azure.com//',
  'x'.repeat(5000),
];

function isError(code: string) {
  return (err: unknown) => err instanceof InvalidInputError && err.code === code && err.status === 400;
}

describe('audiences', () => {
  it('resolves v1 resources, aliases and both slash forms, host case-insensitively', async () => {
    for (const [resource, kind, audience] of resources) {
      assert.deepEqual(
        await audiences.resolveResource(resource).then(({ kind, audience }) => ({ kind, audience })),
        { kind, audience },
        resource,
      );
    }
    assert.equal((await audiences.resolveResource(`api://${APP}`)).appId, APP);
  });

  it('resolves v2 .default scopes, including the doubled slash', async () => {
    for (const [scope, kind, audience] of scopes) {
      const resolved = await audiences.resolveScope(scope);
      assert.deepEqual({ kind: resolved.kind, audience: resolved.audience }, { kind, audience }, scope);
    }
    assert.deepEqual((await audiences.resolveScope('openid https://graph.microsoft.com/.default offline_access')).oidcScopes, ['openid', 'offline_access']);
  });

  it('refuses unknown resources with a distinct code', async () => {
    for (const resource of unknownResources) {
      await assert.rejects(audiences.resolveResource(resource), isError(AUDIENCE_ERRORS.unknownResource), resource);
      if (resource.trim() === resource && resource !== '') {
        await assert.rejects(audiences.resolveScope(`${resource}/.default`), isError(AUDIENCE_ERRORS.unknownScope), resource);
      }
    }
  });

  it('refuses scopes that are not exactly one {resource}/.default', async () => {
    for (const scope of [
      '',
      '   ',
      'openid',
      '/.default',
      'https://management.azure.com/',
      'https://management.azure.com/user_impersonation',
      'https://management.azure.com/.default https://graph.microsoft.com/.default',
      '.default',
    ]) {
      await assert.rejects(audiences.resolveScope(scope), isError(AUDIENCE_ERRORS.invalidScope), scope);
    }
  });

  it('asks the directory whether an application exists, lower-cased', async () => {
    lookups.length = 0;
    await audiences.resolveScope(`api://${APP.toUpperCase()}/.default`);
    await assert.rejects(audiences.resolveResource('api://00000000-0000-4000-8000-000000000000'));
    assert.deepEqual(lookups, [APP, '00000000-0000-4000-8000-000000000000']);
  });

  it('lists the audiences each API accepts, in both slash forms', () => {
    assert.deepEqual(audiences.aliases('management'), ['https://kh.example.test:8443/', 'https://management.azure.com/', 'https://management.core.windows.net/']);
    assert.deepEqual(audiences.acceptedAudiences('vault'), [
      'https://vault.localhost:8443',
      'https://vault.localhost:8443/',
      'https://vault.azure.net',
      'https://vault.azure.net/',
    ]);
    assert.deepEqual(audiences.acceptedAudiences('directory'), [
      'https://kh.example.test:8443/graph',
      'https://kh.example.test:8443/graph/',
      'https://graph.microsoft.com',
      'https://graph.microsoft.com/',
    ]);
    assert.deepEqual(audiences.acceptedAudiences('application', APP.toUpperCase()), [`api://${APP}`, `api://${APP}/`]);
    // Every resolved audience is accepted by its API, so issued tokens always verify.
    for (const [, kind, audience] of [...resources, ...scopes]) {
      const accepted = kind === 'application' ? audiences.acceptedAudiences('application', APP) : audiences.acceptedAudiences(kind);
      assert.ok(accepted.includes(audience), audience);
    }
  });

  it('drops the default port from the vault audience', async () => {
    const on443 = new Audiences({ publicUrl: 'https://kh.test', vaultDnsSuffix: 'vault.kh.test', httpsPort: 443, applicationExists: () => false });
    assert.equal((await on443.resolveResource('https://vault.kh.test')).audience, 'https://vault.kh.test');
    assert.equal((await on443.resolveResource('https://kh.test/')).kind, 'management');
  });
});
