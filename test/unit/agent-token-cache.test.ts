// The agent's token cache on its own, with a test clock and an upstream the test scripts (the
// server side is tested end to end in test/blackbox/agent-*.test.ts): hits without a round trip
// until five minutes before expiry, one upstream request for concurrent misses, backoff with
// jitter while the server is away and a cached token served meanwhile, refusals passed on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImdsError, IMDS_ERRORS } from '../../src/agent/imds-errors.js';
import type { IdentitySelector } from '../../src/agent/identity-selector.js';
import { TokenCache, type IssuedToken, type TokenUpstream } from '../../src/agent/token-cache.js';

const SYSTEM: IdentitySelector = { kind: 'system' };
const VAULT = 'https://vault.azure.net';

function harness(script: (call: number) => IssuedToken | Error | Promise<IssuedToken>) {
  let nowMs = 1_700_000_000_000;
  const calls: { identity: IdentitySelector; resource: string }[] = [];
  const sleeps: number[] = [];
  const upstream: TokenUpstream = {
    async token(identity, resource) {
      calls.push({ identity, resource });
      const r = await script(calls.length);
      if (r instanceof Error) throw r;
      return r;
    },
  };
  const cache = new TokenCache({ upstream, now: () => nowMs, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) });
  const token = (lifetimeS: number, n = calls.length): IssuedToken => ({ accessToken: `t${n}`, expiresOn: Math.floor(nowMs / 1000) + lifetimeS, notBefore: Math.floor(nowMs / 1000), clientId: 'c', resource: VAULT });
  return { cache, calls, sleeps, token, advance: (s: number) => (nowMs += s * 1000) };
}

describe('agent token cache', () => {
  it('serves a hit with no round trip until 5 minutes before expiry, then fetches anew', async () => {
    const h = harness((n) => h.token(3600, n));
    assert.equal((await h.cache.get(SYSTEM, VAULT)).accessToken, 't1');
    h.advance(3600 - 301);
    assert.equal((await h.cache.get(SYSTEM, VAULT)).accessToken, 't1');
    assert.equal(h.calls.length, 1);
    h.advance(2);
    assert.equal((await h.cache.get(SYSTEM, VAULT)).accessToken, 't2');
    assert.equal(h.calls.length, 2);
  });

  it('keys by identity and exact resource', async () => {
    const h = harness((n) => h.token(3600, n));
    await h.cache.get(SYSTEM, VAULT);
    await h.cache.get(SYSTEM, `${VAULT}/`);
    await h.cache.get({ kind: 'clientId', value: '6f9d2c4e-58a3-4b0f-9a1e-2d7c8b3f1a90' }, VAULT);
    await h.cache.get(SYSTEM, VAULT);
    assert.equal(h.calls.length, 3);
    assert.equal(h.cache.size, 3);
  });

  it('coalesces concurrent misses for the same key into one upstream request', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = harness(async (n) => {
      await gate;
      return h.token(3600, n);
    });
    const all = Array.from({ length: 50 }, () => h.cache.get(SYSTEM, VAULT));
    release();
    const got = await Promise.all(all);
    assert.equal(h.calls.length, 1);
    assert.ok(got.every((t) => t.accessToken === 't1'));
  });

  it('retries an unreachable server with capped, jittered backoff, then answers 503', async () => {
    const h = harness(() => new Error('connect ECONNREFUSED'));
    await assert.rejects(h.cache.get(SYSTEM, VAULT), (err: ImdsError) => err.status === 503 && err.error === 'temporarily_unavailable');
    assert.equal(h.calls.length, 3, 'three attempts');
    // Full jitter (random 0.5) of 200 ms, then 400 ms.
    assert.deepEqual(h.sleeps, [100, 200]);
  });

  it('serves a cached, unexpired token while the server is away, and none after it expired', async () => {
    let down = false;
    const h = harness((n) => (down ? new Error('ECONNREFUSED') : h.token(600, n)));
    await h.cache.get(SYSTEM, VAULT);
    down = true;
    h.advance(400); // inside the refresh margin: a refresh is tried, and fails
    assert.equal((await h.cache.get(SYSTEM, VAULT)).accessToken, 't1');
    assert.deepEqual(h.sleeps, [], 'no waiting when a cached token can be served');
    h.advance(200); // expired
    await assert.rejects(h.cache.get(SYSTEM, VAULT), (err: ImdsError) => err.status === 503);
    down = false;
    // One failed refresh while a token was cached, three attempts after it expired, then the new one.
    assert.equal((await h.cache.get(SYSTEM, VAULT)).accessToken, 't6', 'the server is back: a new token');
  });

  it("passes a refusal on (identity not found at once; a revoked machine's error once its tokens expire)", async () => {
    let refuse: ImdsError | undefined;
    const h = harness((n) => refuse ?? h.token(600, n));
    refuse = IMDS_ERRORS.identityNotFound();
    await assert.rejects(h.cache.get({ kind: 'clientId', value: '0b4f9c1e-7d2a-4e3b-8c5f-6a1d9e2b3c4f' }, VAULT), (err: ImdsError) => err.status === 400 && err.description === 'Identity not found');
    assert.equal(h.calls.length, 1, 'not retried');
    refuse = undefined;
    await h.cache.get(SYSTEM, VAULT);
    refuse = IMDS_ERRORS.refused('the machine was revoked');
    h.advance(400);
    assert.equal((await h.cache.get(SYSTEM, VAULT)).accessToken, 't2', 'still valid: served');
    h.advance(200);
    await assert.rejects(h.cache.get(SYSTEM, VAULT), (err: ImdsError) => err.status === 403);
    assert.equal(h.cache.size, 0, 'the expired token is gone');
  });
});
