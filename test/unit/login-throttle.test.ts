import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { StartupError, ThrottledError } from '../../src/errors.js';
import { LoginThrottle, MemoryThrottleStore, type LoginThrottleOptions } from '../../src/directory/login-throttle.js';

const T0 = 1_700_000_000_000;

/** A throttle on a fake clock: no test sleeps. */
function setup(opts: LoginThrottleOptions = {}, maxEntries?: number) {
  const clock = { now: T0 };
  const tick = () => clock.now;
  const store = new MemoryThrottleStore(maxEntries === undefined ? {} : { maxEntries }, tick);
  const throttle = new LoginThrottle(store, opts, tick);
  const advance = (seconds: number) => { clock.now += seconds * 1000; };
  return { throttle, store, clock, advance };
}

type Outcome = 'ok' | 'wrong' | { code: string; retryAfterSeconds: number | undefined; message: string };

/** One password check as the token endpoint or LDAP bind would do it. */
async function login(throttle: LoginThrottle, account: string, source: string, right: boolean): Promise<Outcome> {
  let attempt;
  try {
    attempt = await throttle.begin(account, source);
  } catch (err) {
    assert.ok(err instanceof ThrottledError, String(err));
    assert.equal(err.status, 429);
    return { code: err.code, retryAfterSeconds: err.retryAfterSeconds, message: err.message };
  }
  if (right) {
    await attempt.succeeded();
    return 'ok';
  }
  await attempt.failed();
  return 'wrong';
}

const code = (o: Outcome) => (typeof o === 'string' ? o : o.code);
const retry = (o: Outcome) => (typeof o === 'string' ? undefined : o.retryAfterSeconds);
const SRC = '198.51.100.7';

test('after 5 failures even the right password is refused until the delay has passed', async () => {
  const { throttle, advance } = setup();
  for (let i = 0; i < 5; i++) assert.equal(await login(throttle, 'alice', SRC, false), 'wrong');
  const locked = await login(throttle, 'alice', SRC, true);
  assert.equal(code(locked), 'KH_ACCOUNT_LOCKED');
  assert.equal(retry(locked), 30);
  assert.match((locked as { message: string }).message, /Try again in 30 seconds/);
  advance(29.5);
  assert.equal(code(await login(throttle, 'alice', SRC, true)), 'KH_ACCOUNT_LOCKED');
  assert.equal(retry(await login(throttle, 'alice', SRC, true)), 1, 'rounded up, never 0');
  advance(0.5);
  assert.equal(await login(throttle, 'alice', SRC, true), 'ok');
});

test('the delay doubles with each further failure, up to the maximum', async () => {
  const { throttle, advance } = setup();
  for (let i = 0; i < 5; i++) await login(throttle, 'alice', SRC, false);
  const seen: Array<number | undefined> = [];
  for (let i = 0; i < 8; i++) {
    const refused = await login(throttle, 'alice', SRC, true);
    assert.equal(code(refused), 'KH_ACCOUNT_LOCKED');
    seen.push(retry(refused));
    advance(retry(refused)!);
    assert.equal(await login(throttle, 'alice', SRC, false), 'wrong', 'one guess once the lock is over');
  }
  assert.deepEqual(seen, [30, 60, 120, 240, 480, 900, 900, 900]);
});

test('refused attempts while locked do not lengthen the lock', async () => {
  const { throttle, advance } = setup();
  for (let i = 0; i < 5; i++) await login(throttle, 'alice', SRC, false);
  for (let i = 0; i < 50; i++) assert.equal(code(await login(throttle, 'alice', SRC, false)), 'KH_ACCOUNT_LOCKED');
  advance(30);
  assert.equal(await login(throttle, 'alice', SRC, false), 'wrong');
  assert.equal(retry(await login(throttle, 'alice', SRC, true)), 60, 'the 6th failure, not the 56th');
});

test('a success resets the count', async () => {
  const { throttle } = setup();
  for (let i = 0; i < 4; i++) await login(throttle, 'alice', SRC, false);
  assert.equal(await login(throttle, 'alice', SRC, true), 'ok');
  for (let i = 0; i < 4; i++) assert.equal(await login(throttle, 'alice', SRC, false), 'wrong');
  assert.equal(await login(throttle, 'alice', SRC, true), 'ok', 'the 5th attempt since the success is still allowed');
  for (let i = 0; i < 4; i++) await login(throttle, 'alice', SRC, false);
  assert.equal(await login(throttle, 'alice', SRC, false), 'wrong');
  assert.equal(code(await login(throttle, 'alice', SRC, true)), 'KH_ACCOUNT_LOCKED');
});

test('failures are forgotten a day after the last one', async () => {
  const { throttle, advance } = setup();
  for (let i = 0; i < 4; i++) await login(throttle, 'alice', SRC, false);
  advance(86_400);
  for (let i = 0; i < 4; i++) assert.equal(await login(throttle, 'alice', SRC, false), 'wrong');
  assert.equal(await login(throttle, 'alice', SRC, true), 'ok');
});

test('another account is unaffected, also from the same source address', async () => {
  for (const trusted of [false, true]) {
    const { throttle } = setup(trusted ? { trustedSources: [SRC] } : {});
    for (let i = 0; i < 20; i++) await login(throttle, 'alice', SRC, false);
    assert.equal(code(await login(throttle, 'alice', SRC, true)), 'KH_ACCOUNT_LOCKED');
    assert.equal(await login(throttle, 'bob', SRC, true), 'ok');
    assert.equal(await login(throttle, 'bob', SRC, false), 'wrong');
    assert.equal(await login(throttle, 'bob', SRC, true), 'ok');
  }
});

test('the lock follows the account across sources', async () => {
  const { throttle } = setup();
  for (let i = 0; i < 5; i++) await login(throttle, 'alice', `203.0.113.${i}`, false);
  assert.equal(code(await login(throttle, 'alice', '192.0.2.200', true)), 'KH_ACCOUNT_LOCKED');
});

test('account names are matched case-insensitively and after NFKC', async () => {
  const { throttle } = setup();
  for (const name of ['alice', 'Alice', 'ALICE', 'aLiCe', 'Ａｌｉｃｅ']) await login(throttle, name, SRC, false);
  assert.equal(code(await login(throttle, 'alice', SRC, true)), 'KH_ACCOUNT_LOCKED');
});

test('spraying from one untrusted source throttles the source, never the accounts', async () => {
  const { throttle, advance } = setup();
  const sprayer = '203.0.113.66';
  const victims = Array.from({ length: 20 }, (_, i) => `user${i}`);
  for (const v of victims) assert.equal(await login(throttle, v, sprayer, false), 'wrong');
  const refused = await login(throttle, 'user20', sprayer, false);
  assert.equal(code(refused), 'KH_SOURCE_THROTTLED');
  assert.equal(retry(refused), 600);
  assert.match((refused as { message: string }).message, /from this address/);
  assert.equal(code(await login(throttle, 'user21', sprayer, true)), 'KH_SOURCE_THROTTLED', 'even the right password');
  // The victims themselves, from their own machines, sign in as usual.
  for (const v of victims) assert.equal(await login(throttle, v, '192.0.2.10', true), 'ok');
  // Other sources are not slowed.
  assert.equal(await login(throttle, 'user22', '192.0.2.11', false), 'wrong');
  advance(600);
  assert.equal(await login(throttle, 'user20', sprayer, false), 'wrong', 'the source is let go when its window ends');
});

test('repeated failures at one account do not trip the source guard (a shared host stays usable)', async () => {
  const { throttle, advance } = setup();
  const host = '10.20.30.40';
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 6; i++) await login(throttle, 'clumsy', host, false);
    advance(1000);
  }
  for (let i = 0; i < 19; i++) assert.equal(await login(throttle, `colleague${i}`, host, true), 'ok');
  assert.equal(await login(throttle, 'colleague19', host, false), 'wrong');
});

test('a successful sign-in takes that account out of its source\'s count', async () => {
  const { throttle } = setup({ sourceThreshold: 3 });
  const host = '10.1.1.1';
  await login(throttle, 'a', host, false);
  await login(throttle, 'b', host, false);
  assert.equal(await login(throttle, 'b', host, true), 'ok');
  await login(throttle, 'c', host, false);
  assert.equal(await login(throttle, 'd', host, false), 'wrong', 'a and c count, b no longer does');
  assert.equal(code(await login(throttle, 'e', host, true)), 'KH_SOURCE_THROTTLED');
});

test('a trusted source is never source-throttled, but its accounts still lock', async () => {
  const trustedSources = ['10.0.0.0/24', '2001:db8:aa::/48', '192.0.2.7'];
  const { throttle } = setup({ trustedSources });
  for (const source of ['10.0.0.5', '::ffff:10.0.0.5', '192.0.2.7', '2001:db8:aa:1::9']) {
    for (let i = 0; i < 100; i++) {
      assert.equal(await login(throttle, `${source}-user${i}`, source, false), 'wrong');
    }
  }
  for (let i = 0; i < 5; i++) await login(throttle, 'alice', '10.0.0.5', false);
  assert.equal(code(await login(throttle, 'alice', '10.0.0.5', true)), 'KH_ACCOUNT_LOCKED');
  // Outside the trusted blocks the guard applies as usual.
  for (let i = 0; i < 20; i++) await login(throttle, `u${i}`, '10.0.1.5', false);
  assert.equal(code(await login(throttle, 'u20', '10.0.1.5', false)), 'KH_SOURCE_THROTTLED');
});

test('trusted-source matching: IPv4, IPv6, IPv4-mapped IPv6, CIDR, zone ids', () => {
  const { throttle } = setup({ trustedSources: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1', ' fd00:1::/64 '] });
  const yes = ['10.1.2.3', '::ffff:10.1.2.3', '::FFFF:a01:203', '192.168.1.7', '::ffff:192.168.1.7', '2001:db8:1::5', '2001:0DB8:0000::5', '::1', '0:0:0:0:0:0:0:1', 'fd00:1::42', 'fd00:1:0:0:ffff::1%eth0'];
  const no = ['11.0.0.1', '192.168.1.8', '::ffff:192.168.1.8', '2001:db9::1', '::2', 'fd00:2::1', '', 'localhost', 'not an ip', '10.0.0.1:3389'];
  for (const s of yes) assert.equal(throttle.isTrusted(s), true, s);
  for (const s of no) assert.equal(throttle.isTrusted(s), false, s);
});

test('an invalid trusted source stops the start with one line', () => {
  for (const spec of ['nonsense', '10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/8/1', '10.0.0.0/-1', '300.1.1.1', 'example.com/24']) {
    assert.throws(() => setup({ trustedSources: [spec] }), (e: unknown) => e instanceof StartupError && e.code === 'KH_CONFIG_INVALID' && e.message.includes(spec), spec);
  }
});

test('IPv6 sources are counted per /64; IPv4-mapped addresses as their IPv4 address', async () => {
  const { throttle } = setup({ sourceThreshold: 5 });
  for (let i = 1; i <= 5; i++) await login(throttle, `v${i}`, `2001:db8:1:2::${i.toString(16)}`, false);
  assert.equal(code(await login(throttle, 'v6', '2001:db8:1:2:ffff:1:2:3', false)), 'KH_SOURCE_THROTTLED', 'another address in the same /64');
  assert.equal(await login(throttle, 'v6', '2001:db8:1:3::1', false), 'wrong', 'another /64');
  for (let i = 1; i <= 3; i++) await login(throttle, `m${i}`, '::ffff:203.0.113.9', false);
  for (let i = 4; i <= 5; i++) await login(throttle, `m${i}`, '203.0.113.9', false);
  assert.equal(code(await login(throttle, 'm6', '::ffff:cb00:7109', false)), 'KH_SOURCE_THROTTLED');
});

test('unknown and known usernames are throttled identically', async () => {
  // What the token endpoint does: the same throttle calls whether or not the user exists.
  const directory = new Map([['alice', 'right-password']]);
  async function passwordGrant(throttle: LoginThrottle, user: string, password: string) {
    const attempt = await throttle.begin(user, SRC).catch((e: unknown) => e as ThrottledError);
    if (attempt instanceof ThrottledError) return { code: attempt.code, retry: attempt.retryAfterSeconds, message: attempt.message };
    const ok = directory.get(user) === password;
    if (ok) await attempt.succeeded();
    else await attempt.failed();
    return ok ? 'ok' : 'invalid_grant';
  }
  const trace = async (user: string) => {
    const { throttle, advance } = setup();
    const out: unknown[] = [];
    for (let i = 0; i < 12; i++) {
      out.push(await passwordGrant(throttle, user, 'guess'));
      if (i % 3 === 2) advance(45);
    }
    return out;
  };
  const known = await trace('alice');
  const unknown = await trace('mallory-does-not-exist');
  assert.deepEqual(unknown, known);
  assert.ok(known.some((o) => typeof o === 'object'), 'the trace did reach a lock');
});

test('parallel guesses cannot outrun the lock', async () => {
  const { throttle } = setup();
  const results = await Promise.all(Array.from({ length: 50 }, () => login(throttle, 'alice', SRC, false)));
  assert.equal(results.filter((r) => r === 'wrong').length, 5);
  assert.equal(results.filter((r) => code(r) === 'KH_ACCOUNT_LOCKED').length, 45);
});

test('an attempt never reported counts as a failure', async () => {
  const { throttle } = setup();
  for (let i = 0; i < 5; i++) await throttle.begin('alice', SRC); // the caller crashed each time
  assert.equal(code(await login(throttle, 'alice', SRC, true)), 'KH_ACCOUNT_LOCKED');
});

test('reporting an outcome twice changes nothing', async () => {
  const { throttle } = setup();
  for (let i = 0; i < 4; i++) await login(throttle, 'alice', SRC, false);
  const attempt = await throttle.begin('alice', SRC);
  await attempt.failed();
  await attempt.succeeded(); // too late: already settled as a failure
  assert.equal(code(await login(throttle, 'alice', SRC, true)), 'KH_ACCOUNT_LOCKED');
});

test('the memory store stays bounded under 100k random usernames', async () => {
  const { throttle, store } = setup({}, 5_000);
  for (let i = 0; i < 100_000; i++) {
    const source = `${10 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.1`;
    await login(throttle, randomBytes(12).toString('hex'), source, false);
  }
  assert.ok(store.size <= 5_000, `size ${store.size}`);
  // The store still works: the newest account is counted.
  for (let i = 0; i < 5; i++) await login(throttle, 'alice', SRC, false);
  assert.equal(code(await login(throttle, 'alice', SRC, true)), 'KH_ACCOUNT_LOCKED');
});

test('the store keys by hash, so long names cost no more memory than short ones', async () => {
  const { throttle, store } = setup();
  await login(throttle, 'x'.repeat(100_000), SRC, false);
  assert.equal(store.size, 2);
  assert.equal(await store.get(`acct:${'x'.repeat(100_000)}`), undefined);
});

test('MemoryThrottleStore: expiry, copies, eviction of the least recently written', async () => {
  let now = T0;
  const store = new MemoryThrottleStore({ maxEntries: 3 }, () => now);
  const put = (key: string, failures: number, ttl = 10_000) => store.update(key, () => ({ entry: { failures, lockedUntil: 0 }, expiresAt: now + ttl }));
  await put('a', 1);
  await put('b', 2);
  await put('c', 3);
  await put('a', 4); // rewriting a makes b the oldest
  await put('d', 5);
  assert.equal(store.size, 3);
  assert.equal(await store.get('b'), undefined);
  assert.deepEqual(await store.get('a'), { failures: 4, lockedUntil: 0 });
  const copy = await store.get('a');
  copy!.failures = 99;
  assert.equal((await store.get('a'))!.failures, 4, 'get returns a copy');
  now += 10_000;
  assert.equal(await store.get('a'), undefined, 'expired');
  await store.update('c', (cur) => {
    assert.equal(cur, undefined, 'update sees an expired entry as absent');
    return undefined;
  });
  await put('e', 1);
  await store.update('e', () => null);
  assert.equal(await store.get('e'), undefined, 'null deletes');
  assert.throws(() => new MemoryThrottleStore({ maxEntries: 0 }), RangeError);
});

test('options are validated', () => {
  for (const bad of [{ threshold: 0 }, { baseDelaySeconds: -1 }, { maxDelaySeconds: 1.5 }, { sourceThreshold: Number.NaN }, { baseDelaySeconds: 60, maxDelaySeconds: 30 }]) {
    assert.throws(() => setup(bad), RangeError, JSON.stringify(bad));
  }
  const { throttle } = setup({ threshold: 2, baseDelaySeconds: 5, maxDelaySeconds: 7 });
  return (async () => {
    await login(throttle, 'a', SRC, false);
    await login(throttle, 'a', SRC, false);
    assert.equal(retry(await login(throttle, 'a', SRC, true)), 5);
  })();
});

test('many right passwords in flight at once from one host never trip the source guard', async () => {
  const { throttle } = setup({ sourceThreshold: 3 });
  const host = '10.9.9.9';
  // JupyterHub signing in 50 users at the same moment: every attempt begins before any ends.
  const attempts = await Promise.all(Array.from({ length: 50 }, (_, i) => throttle.begin(`user${i}`, host)));
  await Promise.all(attempts.map((a) => a.succeeded()));
  assert.equal(await login(throttle, 'newcomer', host, true), 'ok');
});
