// The LDAP face's wire layer: framing across chunk boundaries and its limits, request decoding
// of every operation, and refusals of malformed PDUs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerFramer, FramingError } from '../../src/ldap/server/ber-framing.js';
import { encodeInteger, encodeString, tlv } from '../../src/ldap/server/ber.js';
import { decodeMessage, ProtocolError } from '../../src/ldap/server/request-decoder.js';
import { parseSelection, selectAttributes } from '../../src/ldap/server/attribute-selection.js';

const msg = (id: number, op: Buffer, controls?: Buffer) => tlv(0x30, encodeInteger(id), op, controls);
const bool = (b: boolean) => tlv(0x01, Buffer.from([b ? 0xff : 0]));

describe('BER framing', () => {
  it('reassembles PDUs split across chunks and splits coalesced ones', () => {
    const a = msg(1, tlv(0x42));
    const b = msg(2, tlv(0x77, encodeString('1.3.6.1.4.1.4203.1.11.3', 0x80)));
    const framer = new BerFramer(1024);
    const both = Buffer.concat([a, b]);
    const out: Buffer[] = [];
    for (const byte of both) out.push(...framer.push(Buffer.from([byte])));
    assert.deepEqual(out, [a, b]);
    assert.deepEqual(new BerFramer(1024).push(both), [a, b]);
  });

  it('refuses oversize, indefinite and non-SEQUENCE PDUs from their header alone', () => {
    assert.throws(() => new BerFramer(1024).push(Buffer.from([0x30, 0x84, 0x40, 0, 0, 0])), FramingError);
    assert.throws(() => new BerFramer(1024).push(Buffer.from([0x30, 0x82, 0x04, 0x01])), /exceeds the limit/);
    assert.throws(() => new BerFramer(1024).push(Buffer.from([0x30, 0x80])), /indefinite/);
    assert.throws(() => new BerFramer(1024).push(Buffer.from([0x30, 0x85, 1, 1, 1, 1, 1])), FramingError);
    assert.throws(() => new BerFramer(1024).push(Buffer.from([0x04, 0x00])), /SEQUENCE/);
  });

  it('holds no more than the bytes received', () => {
    const framer = new BerFramer(1 << 20);
    assert.deepEqual(framer.push(Buffer.from([0x30, 0x83, 0x0f, 0x00, 0x00, 1, 2, 3])), []);
    assert.equal(framer.buffered, 8);
  });
});

describe('request decoding', () => {
  it('decodes bind, search, compare, abandon, extended, writes and controls', () => {
    const bind = decodeMessage(msg(1, tlv(0x60, encodeInteger(3), encodeString('uid=a,dc=x'), encodeString('pw', 0x80))));
    assert.deepEqual({ ...bind.request, simple: String((bind.request as { simple: Buffer }).simple) }, { type: 'bind', version: 3, name: 'uid=a,dc=x', simple: 'pw', saslMechanism: undefined });
    const sasl = decodeMessage(msg(2, tlv(0x60, encodeInteger(3), encodeString(''), tlv(0xa3, encodeString('EXTERNAL')))));
    assert.equal((sasl.request as { saslMechanism: string }).saslMechanism, 'EXTERNAL');
    const paged = tlv(0xa0, tlv(0x30, encodeString('1.2.840.113556.1.4.319'), bool(true), encodeString(tlv(0x30, encodeInteger(5), encodeString('')))));
    const search = decodeMessage(
      msg(3, tlv(0x63, encodeString('dc=x'), encodeInteger(2, 0x0a), encodeInteger(0, 0x0a), encodeInteger(10), encodeInteger(5), bool(true), tlv(0xa3, encodeString('uid'), encodeString('a*b')), tlv(0x30, encodeString('cn'), encodeString('+'))), paged),
    );
    assert.equal(search.request.type, 'search');
    if (search.request.type !== 'search') return;
    assert.equal(search.request.scope, 'sub');
    assert.equal(search.request.filter.toString(), '(uid=a\\2ab)');
    assert.deepEqual(search.request.attributes, ['cn', '+']);
    assert.deepEqual(search.controls.map((c) => [c.oid, c.critical]), [['1.2.840.113556.1.4.319', true]]);
    assert.deepEqual(decodeMessage(msg(4, tlv(0x6e, encodeString('uid=a'), tlv(0x30, encodeString('uid'), encodeString('a'))))).request, { type: 'compare', dn: 'uid=a', attribute: 'uid', value: 'a' });
    assert.deepEqual(decodeMessage(msg(5, tlv(0x50, Buffer.from([3])))).request, { type: 'abandon', targetId: 3 });
    assert.deepEqual(decodeMessage(msg(6, tlv(0x4a, Buffer.from('uid=a')))).request, { type: 'write', responseTag: 0x6b, write: { op: 'delete', dn: 'uid=a' } });
    // RFC 4511 §4.6: changes of add(0), delete(1), replace(2), values kept as bytes.
    const modify = decodeMessage(msg(8, tlv(0x66, encodeString('uid=a'), tlv(0x30,
      tlv(0x30, encodeInteger(2, 0x0a), tlv(0x30, encodeString('mail'), tlv(0x31, encodeString('a@x.org')))),
      tlv(0x30, encodeInteger(1, 0x0a), tlv(0x30, encodeString('givenName'), tlv(0x31)))))));
    assert.deepEqual(modify.request, {
      type: 'write', responseTag: 0x67,
      write: { op: 'modify', dn: 'uid=a', changes: [
        { operation: 'replace', type: 'mail', values: [Buffer.from('a@x.org')] },
        { operation: 'delete', type: 'givenName', values: [] },
      ] },
    });
    const add = decodeMessage(msg(9, tlv(0x68, encodeString('cn=g'), tlv(0x30, tlv(0x30, encodeString('objectClass'), tlv(0x31, encodeString('top'), encodeString('group')))))));
    assert.deepEqual(add.request, { type: 'write', responseTag: 0x69, write: { op: 'add', dn: 'cn=g', attributes: [{ type: 'objectClass', values: [Buffer.from('top'), Buffer.from('group')] }] } });
    assert.deepEqual(decodeMessage(msg(10, tlv(0x6c, encodeString('uid=a'), encodeString('uid=b'), bool(true)))).request, { type: 'write', responseTag: 0x6d, write: { op: 'modDn' } });
    assert.throws(() => decodeMessage(msg(11, tlv(0x66, encodeString('uid=a'), tlv(0x30, tlv(0x30, encodeInteger(7, 0x0a), tlv(0x30, encodeString('mail'), tlv(0x31))))))), ProtocolError);
    assert.equal(decodeMessage(msg(7, tlv(0x77, encodeString('1.3.6.1.4.1.1466.20037', 0x80)))).request.type, 'extended');
  });

  it('refuses malformed requests as protocol errors, keeping the messageID when read', () => {
    const cases = [
      msg(1, tlv(0x61, encodeInteger(0))), // a response, not a request
      msg(0, tlv(0x60, encodeInteger(3), encodeString(''), encodeString('', 0x80))), // messageID 0
      msg(2, tlv(0x63, encodeString('dc=x'), encodeInteger(7, 0x0a))), // bad scope, truncated
      msg(3, tlv(0x6e, encodeString(Buffer.from([0xff, 0xfe])), tlv(0x30, encodeString('a'), encodeString('b')))), // not UTF-8
      tlv(0x30, encodeInteger(4), tlv(0x60, Buffer.from([0x02, 0x05, 1]))), // inner length past its container
    ];
    for (const pdu of cases) assert.throws(() => decodeMessage(pdu), ProtocolError);
    let deep = tlv(0x87, Buffer.from('cn'));
    for (let i = 0; i < 40; i++) deep = tlv(0xa2, deep);
    const search = msg(9, tlv(0x63, encodeString(''), encodeInteger(2, 0x0a), encodeInteger(0, 0x0a), encodeInteger(0), encodeInteger(0), bool(false), deep, tlv(0x30)));
    assert.throws(() => decodeMessage(search), (e: ProtocolError) => e.messageId === 9);
  });
});

describe('attribute selection', () => {
  const entry = {
    dn: 'uid=a',
    attributes: new Map([
      ['uid', { name: 'uid', values: ['a'] }],
      ['memberof', { name: 'memberOf', values: ['cn=g'] }],
      ['entryuuid', { name: 'entryUUID', values: ['u'] }],
    ]),
  };
  const names = (requested: string[]) => selectAttributes(entry, parseSelection(requested)).map((a) => a.name);
  it('applies *, +, 1.1, case-insensitive names and ignores options and unknowns', () => {
    assert.deepEqual(names([]), ['uid', 'memberOf']);
    assert.deepEqual(names(['*']), ['uid', 'memberOf']);
    assert.deepEqual(names(['+']), ['entryUUID']);
    assert.deepEqual(names(['*', '+']), ['uid', 'memberOf', 'entryUUID']);
    assert.deepEqual(names(['1.1']), []);
    assert.deepEqual(names(['1.1', 'UID']), ['uid']);
    assert.deepEqual(names(['ENTRYUUID', 'uid;binary', 'nosuch', 'uid', '(']), ['uid', 'entryUUID']);
  });
});
