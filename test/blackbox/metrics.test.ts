// GET /metrics against a live server: who may scrape (401 without a token, 403 without the
// Keyhaven Metrics Reader role or Global Administrator), and the counters moving by what a
// workload did — tokens issued by grant and audience kind, refused sign-ins by reason, LDAP
// operations by type and result, HTTPS requests by route template, audit batches — read before
// and after. No label holds a user name, a secret or a token of the workload.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client, InvalidCredentialsError } from 'ldapts';
import { TEST_CA_CERT } from '../helpers/server-process.js';
import { createServicePrincipal, postForm } from '../helpers/tenant-fixtures.js';
import { startArmSuite, type ArmSuite } from './arm-test-client.js';
import { freePort } from '../helpers/free-port.js';

/** `name{labels} value` lines → value by the exact `name{labels}` text. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('Prometheus metrics', () => {
  let s: ArmSuite;
  let reader: { appId: string; secret: string; servicePrincipalId: string };
  let readerToken: string;
  const scrape = async (token: string | undefined) => {
    const res = await fetch(`${s.t.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  before(async () => {
    s = await startArmSuite();
    const sp = await createServicePrincipal(s.t, s.admin, 'prometheus-scraper');
    reader = sp;
  });
  after(async () => {
    await s?.stop();
  });

  it('answers 401 without a token and 403 to a principal without the role; a Global Administrator or a Metrics Reader scrapes', async () => {
    const none = await scrape(undefined);
    assert.equal(none.status, 401);
    assert.doesNotMatch(none.text, /keyhaven_/);
    const before = await s.appToken(reader.appId, reader.secret);
    const denied = await scrape(before);
    assert.equal(denied.status, 403, denied.text);
    assert.equal((JSON.parse(denied.text) as { error: { code: string } }).error.code, 'KH_AUTHORIZATION_FAILED');

    const admin = await scrape(s.armAdmin);
    assert.equal(admin.status, 200, admin.text.slice(0, 300));
    assert.match(admin.type, /^text\/plain; version=0\.0\.4/);

    // The built-in role at the root scope, granted by a Global Administrator once elevated
    // (User Access Administrator at /, as Entra's elevate access gives it).
    const elevated = await s.arm(s.armAdmin, 'POST', '/providers/Microsoft.Authorization/elevateAccess?api-version=2016-07-01');
    assert.equal(elevated.status, 200, elevated.text);
    const roles = await s.arm(s.armAdmin, 'GET', `/subscriptions/${s.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName eq 'Keyhaven Metrics Reader'`);
    assert.equal(roles.status, 200, roles.text);
    const role = (roles.body.value as { id: string; name: string }[])[0]!;
    const granted = await s.arm(s.armAdmin, 'PUT', `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, {
      properties: { roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${role.name}`, principalId: reader.servicePrincipalId, principalType: 'ServicePrincipal' },
    });
    assert.equal(granted.status, 201, granted.text);
    readerToken = await s.appToken(reader.appId, reader.secret);
    const ok = await scrape(readerToken);
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.match(ok.text, /^# HELP keyhaven_http_requests_total /m);
    assert.match(ok.text, /^keyhaven_process_cpu_user_seconds_total /m, 'process metrics');
  });

  it('counters move by what a workload did, and no label names a user, a secret or a token', async () => {
    const user = 'metrics-victoria';
    const password = 'Harbor-crystal-meadow-17';
    const created = await s.call(s.admin, 'POST', '/users', {
      accountEnabled: true, displayName: 'Victoria Metrics', mailNickname: user, userPrincipalName: `${user}@keyhaven.local`,
      passwordProfile: { password, forceChangePasswordNextSignIn: false },
    });
    assert.equal(created.status, 201, created.text);
    const sp = await createServicePrincipal(s.t, s.admin, 'metrics-workload');
    const first = parse((await scrape(readerToken)).text);

    const issued: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await postForm(s.t.tokenUrl, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: s.armScope });
      assert.equal(r.status, 200);
      issued.push(String(r.body.access_token));
    }
    for (let i = 0; i < 2; i++) {
      const r = await postForm(s.t.tokenUrl, { grant_type: 'password', client_id: '04b07795-8ddb-461a-bbee-02f9e1bf7b46', username: `${user}@keyhaven.local`, password: 'Not-the-password-00', scope: s.armScope });
      assert.equal(r.status, 400);
    }
    const ldap = new Client({ url: `ldaps://localhost:${s.server.ldapsPort}`, tlsOptions: { ca: readFileSync(TEST_CA_CERT) } });
    try {
      await ldap.bind(`uid=${user},ou=people,dc=keyhaven,dc=local`, password);
      for (let i = 0; i < 4; i++) await ldap.search('dc=keyhaven,dc=local', { filter: `(uid=${user})`, attributes: ['cn'] });
      await assert.rejects(ldap.bind(`uid=${user},ou=people,dc=keyhaven,dc=local`, 'wrong-password'), InvalidCredentialsError);
    } finally {
      await ldap.unbind();
    }

    const text = (await scrape(readerToken)).text;
    const second = parse(text);
    const delta = (key: string) => (second.get(key) ?? 0) - (first.get(key) ?? 0);
    assert.equal(delta('keyhaven_tokens_issued_total{grant="client_credentials",audience="management"}'), 3);
    // Two refused password grants and one refused LDAP bind: the same directory check.
    assert.equal(delta('keyhaven_signin_failures_total{kind="user",reason="KH_INVALID_CREDENTIALS"}'), 3);
    assert.equal(delta('keyhaven_ldap_operations_total{op="search",result="0"}'), 4);
    assert.equal(delta('keyhaven_ldap_operations_total{op="bind",result="0"}'), 1);
    assert.equal(delta('keyhaven_ldap_operations_total{op="bind",result="49"}'), 1);
    assert.equal(delta('keyhaven_http_requests_total{face="oauth",route="/:tenant/oauth2/v2.0/token",method="POST",status="2xx"}'), 3);
    assert.equal(delta('keyhaven_http_requests_total{face="oauth",route="/:tenant/oauth2/v2.0/token",method="POST",status="4xx"}'), 2);
    assert.ok(delta('keyhaven_audit_batch_records_count') >= 1, 'audit batches are observed');
    assert.ok((second.get('keyhaven_ldap_operation_duration_seconds_count{op="search"}') ?? 0) >= 4);

    for (const needle of [user, password, sp.secret, sp.appId, reader.secret, ...issued, 'Victoria']) {
      assert.ok(!text.includes(needle), `the scrape holds ${needle.slice(0, 12)}…`);
    }
  });
});

describe('metrics on a loopback port (metricsPort)', () => {
  it('answers GET /metrics on 127.0.0.1 without a token, and nothing else', async () => {
    const port = await freePort();
    const s = await startArmSuite({ args: ['--metrics-port', String(port)] });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^# HELP keyhaven_http_requests_total /m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/graph/v1.0/users`)).status, 404, 'only /metrics');
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 404);
    } finally {
      await s.stop();
    }
  });
});
