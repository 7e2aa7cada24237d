// A machine's public key as join and rotation take it (src/machines/machine-keys.ts): only the
// public members are kept, the kid is the RFC 7638 thumbprint, and private, small, oversized or
// foreign keys are refused by code — without echoing their material.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { parseMachinePublicKey } from '../../src/machines/machine-keys.js';
import { KeyhavenError } from '../../src/errors.js';

async function refusedWith(input: unknown, code: string, secret?: string): Promise<void> {
  await assert.rejects(parseMachinePublicKey(input), (err: unknown) => {
    assert.ok(err instanceof KeyhavenError);
    assert.equal(err.code, code);
    if (secret) assert.ok(!err.message.includes(secret));
    return true;
  });
}

describe('machine public keys', () => {
  it('keeps the public members of RSA and EC keys, with the RFC 7638 thumbprint as kid', async () => {
    for (const pair of [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('ec', { namedCurve: 'P-384' })]) {
      const pub = await exportJWK(pair.publicKey);
      const parsed = await parseMachinePublicKey({ ...pub, use: 'sig', alg: pub.kty === 'RSA' ? 'RS256' : 'ES384' });
      assert.deepEqual(Object.keys(parsed.jwk).sort(), pub.kty === 'RSA' ? ['e', 'kty', 'n'] : ['crv', 'kty', 'x', 'y']);
      assert.equal(parsed.kid, await calculateJwkThumbprint(pub, 'sha256'));
    }
  });

  it('refuses private, small, large, foreign and malformed keys', async () => {
    const rsa = await exportJWK(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    await refusedWith(rsa, 'KH_MACHINE_KEY_PRIVATE', rsa.d);
    await refusedWith(await exportJWK(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), 'KH_MACHINE_KEY_TOO_SMALL');
    await refusedWith({ kty: 'RSA', n: Buffer.alloc(1100, 0xff).toString('base64url'), e: 'AQAB' }, 'KH_MACHINE_KEY_TOO_LARGE');
    await refusedWith({ kty: 'RSA', n: rsa.n, e: 'AQAA' }, 'KH_MACHINE_KEY_INVALID');
    await refusedWith(await exportJWK(generateKeyPairSync('ed25519').publicKey), 'KH_MACHINE_KEY_UNSUPPORTED');
    await refusedWith({ kty: 'oct', k: 'c2VjcmV0' }, 'KH_MACHINE_KEY_PRIVATE');
    const ec = await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    await refusedWith({ ...ec, y: ec.x }, 'KH_MACHINE_KEY_INVALID');
    await refusedWith({ ...ec, crv: 'P-192' }, 'KH_MACHINE_KEY_UNSUPPORTED');
    await refusedWith({ ...ec, x5c: ['A'.repeat(5000)] }, 'KH_MACHINE_KEY_TOO_LARGE');
    for (const bad of [null, 'key', [ec], 42]) await refusedWith(bad, 'KH_MACHINE_KEY_INVALID');
  });
});
