// Robustness of the LDAP face (issue 5): random and mutated BER messages against the real
// server — 20,000 in `npm test`, KEYHAVEN_LDAP_FUZZ_COUNT for more — over as many connections
// as it takes (the server closes a connection after a protocol error, RFC 4511 §4.4.1). About
// a quarter of the connections carry their messages inside a real TLS session, verified with
// the test CA: LDAPS (TLS from the first byte) and StartTLS (RFC 4511 §4.14: the extended
// operation answered in clear, then the handshake on the same socket), so the decoder behind
// the TLS layer gets the same hostile input; a few more send garbage in place of a handshake.
// Before the random share, a fixed set of hostile PDUs goes through completed TLS sessions of
// both kinds, each answer checked against RFC 4511: a PDU the decoder cannot frame ends the
// session with a Notice of Disconnection (§4.4.1: messageID 0, protocolError, OID
// 1.3.6.1.4.1.1466.20036); a well-framed request the server does not support gets its own
// response with the result code §4.1.9 names, and the same session goes on serving — then a
// real client binds and searches over LDAPS and StartTLS. The server stays up, every
// connection is answered or closed, its memory (VmRSS) stays bounded, and a length prefix
// claiming 1 GB is refused without being allocated.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import { blackboxStorage, runCli, startServerProcess, tempHome, TEST_CA_CERT, type ServerProcess } from '../helpers/server-process.js';

const COUNT = Number(process.env.KEYHAVEN_LDAP_FUZZ_COUNT ?? 20_000);
const PER_CONNECTION = 8;
const PARALLEL = 24;

// ---- a small deterministic PRNG, so a failure can be replayed from its seed ----
let seed = Number(process.env.KEYHAVEN_LDAP_FUZZ_SEED ?? Date.now() % 2 ** 31);
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

// ---- BER building blocks for seed messages ----
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const str = (s: string, tag = 0x04) => tlv(tag, Buffer.from(s));
const integer = (v: number, tag = 0x02) => tlv(tag, Buffer.from([v & 0x7f]));
const bool = (b: boolean) => tlv(0x01, Buffer.from([b ? 0xff : 0]));
const message = (id: number, op: Buffer, controls?: Buffer) => tlv(0x30, integer(id), op, ...(controls ? [controls] : []));

const BASE = 'dc=keyhaven,dc=local';
const ADMIN_PASSWORD = 'Fuzz-Admin-Passw0rd';
/** The user the fuzzer's wrong-password binds are aimed at (made in `before`). */
const FUZZED_UID = 'fuzzed';
const filters: Buffer[] = [
  str('objectClass', 0x87),
  tlv(0xa3, str('uid'), str('admin')),
  tlv(0xa0, tlv(0xa3, str('objectClass'), str('person')), tlv(0xa2, str('cn', 0x87))),
  tlv(0xa1, tlv(0xa4, str('cn'), tlv(0x30, str('a', 0x80), str('d', 0x81), str('n', 0x82))), tlv(0xa5, str('uidNumber'), str('1000'))),
  tlv(0xa9, str('1.2.840.113556.1.4.1941', 0x81), str('memberOf', 0x82), str(`cn=admins,ou=groups,${BASE}`, 0x83)),
  tlv(0xa9, str('1.2.840.113556.1.4.803', 0x81), str('userAccountControl', 0x82), str('2', 0x83)),
  tlv(0xa8, str('cn'), str('admn')),
  tlv(0xa6, str('createTimestamp'), str('20200101000000Z')),
];
const pagedControl = tlv(0xa0, tlv(0x30, str('1.2.840.113556.1.4.319'), bool(true), tlv(0x04, tlv(0x30, integer(2), str('')))));
function seedMessage(id: number): Buffer {
  switch (int(10)) {
    case 0:
      // Wrong passwords go to an account of their own: they lock it (the lockout path is fuzzed
      // too), never the admin the real-client checks below bind as.
      return message(id, tlv(0x60, integer(3), str(`uid=${FUZZED_UID},ou=people,${BASE}`), str(pick(['wrong', '', 'x'.repeat(40)]), 0x80)));
    case 1:
    case 2:
    case 3:
      return message(
        id,
        tlv(0x63, str(pick([BASE, '', `ou=people,${BASE}`, 'cn=Subschema', 'o=nowhere'])), integer(int(3), 0x0a), integer(0, 0x0a), integer(int(5)), integer(int(3)), bool(random() < 0.5), pick(filters), tlv(0x30, ...pick([[], [str('*')], [str('+'), str('memberOf')], [str('1.1')], [str('userCertificate;binary'), str('cn'), str('CN')]]).map((b) => b))),
        random() < 0.3 ? pagedControl : undefined,
      );
    case 4:
      return message(id, tlv(0x6e, str(`uid=admin,ou=people,${BASE}`), tlv(0x30, str('uid'), str('admin'))));
    case 5:
      return message(id, tlv(0x77, str(pick(['1.3.6.1.4.1.4203.1.11.3', '1.3.6.1.4.1.4203.1.11.1', '1.2.3']), 0x80), ...(random() < 0.5 ? [str('', 0x81)] : [tlv(0x81, tlv(0x30, str('old', 0x81), str('new', 0x82)))])));
    case 6:
      return message(id, tlv(0x50, Buffer.from([int(100)])));
    case 7:
      return message(id, tlv(0x68, str(`cn=x,${BASE}`), tlv(0x30)));
    case 8:
      return message(id, tlv(0x4a, Buffer.from(`cn=x,${BASE}`)));
    default:
      return message(id, tlv(0x63, str(BASE), integer(2, 0x0a), integer(0, 0x0a), integer(0), integer(0), bool(false), tlv(0xa2, tlv(0xa2, tlv(0xa2, str('cn', 0x87)))), tlv(0x30)));
  }
}

function mutate(pdu: Buffer): Buffer {
  const b = Buffer.from(pdu);
  switch (int(8)) {
    case 0: // flip bits
      for (let i = 0; i < 1 + int(4); i++) b[int(b.length)]! ^= 1 << int(8);
      return b;
    case 1: // random bytes overwritten
      for (let i = 0; i < 1 + int(4); i++) b[int(b.length)] = int(256);
      return b;
    case 2: // truncated (the rest of the PDU never comes, or the next PDU fills it)
      return b.subarray(0, int(b.length));
    case 3: // a length octet replaced with a long form or an indefinite one
      b[1 + int(Math.max(1, b.length - 1))] = pick([0x80, 0x84, 0x85, 0xff, 0x7f]);
      return b;
    case 4: // bytes inserted
      return Buffer.concat([b.subarray(0, int(b.length)), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), b.subarray(int(b.length))]);
    case 5: // random garbage behind a plausible header
      return Buffer.concat([Buffer.from([0x30, int(128)]), Buffer.from(Array.from({ length: int(130) }, () => int(256)))]);
    case 6: // deep nesting
      return message(1, Buffer.concat([Buffer.from([0x63]), Buffer.from([0x80]), Buffer.alloc(int(64), 0xa2)]));
    default: // pure noise
      return Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
  }
}

function vmRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

/** Writes the bytes, ends our side, and resolves once the server closed (or after a timeout). */
function exchange(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      socket.end();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, received: Buffer.concat(chunks), secured: false });
    }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received: Buffer.concat(chunks), secured: false });
    });
  });
}

const CA = readFileSync(TEST_CA_CERT);
const STARTTLS = message(1, tlv(0x77, str('1.3.6.1.4.1.1466.20037', 0x80)));

type Transport = 'ldap' | 'ldaps' | 'starttls' | 'handshake-garbage';

interface Exchange {
  closed: boolean;
  received: Buffer;
  /** TLS transports: the handshake completed and the server's certificate verified. */
  secured: boolean;
}

/** Writes `bytes` on an open socket, ends our side, and resolves once the server closed. */
function writeAndAwaitClose(socket: Socket | TLSSocket, bytes: Buffer, timeoutMs: number, secured: boolean, before: Buffer[] = []): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [...before];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, received: Buffer.concat(chunks), secured });
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received: Buffer.concat(chunks), secured });
    });
    socket.write(bytes);
    socket.end();
  });
}

/** A TLS session over `socket` (or a new connection) that trusts only the test CA. */
function secure(options: { port?: number; socket?: Socket }, timeoutMs: number): Promise<TLSSocket | undefined> {
  return new Promise((resolve) => {
    const tls = tlsConnect({ ...options, host: '127.0.0.1', servername: 'localhost', ca: CA });
    const timer = setTimeout(() => {
      tls.destroy();
      resolve(undefined);
    }, timeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(tls.authorized ? tls : (tls.destroy(), undefined));
    });
    tls.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** The fuzz bytes over one connection of the given kind. */
async function exchangeOver(server: ServerProcess, transport: Transport, bytes: Buffer, timeoutMs = 10_000): Promise<Exchange> {
  if (transport === 'ldap') return exchange(server.ldapPort, bytes, timeoutMs);
  if (transport === 'handshake-garbage') return exchange(server.ldapsPort, bytes, timeoutMs);
  if (transport === 'ldaps') {
    const tls = await secure({ port: server.ldapsPort }, timeoutMs);
    return tls ? writeAndAwaitClose(tls, bytes, timeoutMs, true) : { closed: true, received: Buffer.alloc(0), secured: false };
  }
  // StartTLS: the request and its ExtendedResponse in clear, then TLS on the same socket.
  const plain = connect(server.ldapPort, '127.0.0.1');
  plain.on('error', () => undefined);
  const answer = await new Promise<Buffer | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    plain.once('connect', () => plain.write(STARTTLS));
    plain.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve(d);
    });
    plain.once('close', () => resolve(undefined));
  });
  // ExtendedResponse (0x78) with resultCode success: ENUMERATED 0.
  if (!answer || !answer.includes(Buffer.from([0x78])) || !answer.includes(Buffer.from([0x0a, 0x01, 0x00]))) {
    plain.destroy();
    return { closed: true, received: answer ?? Buffer.alloc(0), secured: false };
  }
  const tls = await secure({ socket: plain }, timeoutMs);
  if (!tls) {
    plain.destroy();
    return { closed: true, received: Buffer.alloc(0), secured: false };
  }
  return writeAndAwaitClose(tls, bytes, timeoutMs, true);
}

// ---- reading the server's answers: LDAPMessages (RFC 4511 §4.1.1) as far as the checks need ----
interface Answer {
  id: number;
  /** The protocolOp's tag: 0x61 BindResponse, 0x64 SearchResultEntry, 0x65 SearchResultDone, 0x78 ExtendedResponse. */
  op: number;
  resultCode?: number;
  /** ExtendedResponse responseName [10]. */
  name?: string;
}

/** One TLV at `i`: its tag, where its content starts and ends; undefined if cut short. */
function readTlv(b: Buffer, i: number): { tag: number; start: number; end: number } | undefined {
  if (i + 2 > b.length) return undefined;
  const tag = b[i]!;
  let len = b[i + 1]!;
  let start = i + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > b.length) return undefined;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + b[start + k]!;
    start += n;
  }
  return start + len <= b.length ? { tag, start, end: start + len } : undefined;
}

function answers(b: Buffer): Answer[] {
  const out: Answer[] = [];
  for (let i = 0; i < b.length;) {
    const msg = readTlv(b, i);
    if (!msg || msg.tag !== 0x30) break;
    const id = readTlv(b, msg.start)!;
    const op = readTlv(b, id.end)!;
    const answer: Answer = { id: b.subarray(id.start, id.end).reduce((v, x) => v * 256 + x, 0), op: op.tag };
    const first = readTlv(b, op.start);
    if (first?.tag === 0x0a) answer.resultCode = b[first.start];
    // ExtendedResponse: the LDAPResult's three parts, then responseName [10].
    for (let j = op.start; op.tag === 0x78 && j < op.end;) {
      const part = readTlv(b, j);
      if (!part) break;
      if (part.tag === 0x8a) answer.name = b.subarray(part.start, part.end).toString('latin1');
      j = part.end;
    }
    out.push(answer);
    i = msg.end;
  }
  return out;
}

const NOTICE_OF_DISCONNECTION = '1.3.6.1.4.1.1466.20036';
const ROOT_DSE_SEARCH = tlv(0x63, str(''), integer(0, 0x0a), integer(0, 0x0a), integer(0), integer(0), bool(false), str('objectClass', 0x87), tlv(0x30, str('supportedLDAPVersion')));
const rootDseSearch = (id: number) => message(id, ROOT_DSE_SEARCH);

/**
 * Hostile PDUs and what RFC 4511 has the server answer. `framing`: the decoder cannot frame it
 * (§4.1.1: a PDU that is not a well-formed LDAPMessage) — a Notice of Disconnection, then the
 * close. Otherwise the request has a response of its own, and the Root DSE search sent after
 * it in the same session is answered too: the session is still healthy.
 */
const HOSTILE: { name: string; bytes: Buffer; framing?: true; answer?: { id: number; op: number; resultCode: number } }[] = [
  { name: 'garbage behind a SEQUENCE header', bytes: Buffer.from([0x30, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff]), framing: true },
  { name: 'a length prefix claiming 1 GB', bytes: Buffer.from([0x30, 0x84, 0x40, 0x00, 0x00, 0x00, 0x02, 0x01]), framing: true },
  { name: 'an indefinite length (BER allows it; LDAP does not, §5.1)', bytes: Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x42, 0x00, 0x00, 0x00]), framing: true },
  { name: 'a length of five octets', bytes: Buffer.from([0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00]), framing: true },
  { name: 'a message that is not a SEQUENCE', bytes: Buffer.concat([Buffer.from([0x31]), message(1, tlv(0x42)).subarray(1)]), framing: true },
  { name: 'a messageID that is not an INTEGER', bytes: tlv(0x30, str('one'), tlv(0x42)), framing: true },
  { name: 'a protocolOp with an unknown tag', bytes: message(3, tlv(0x7f, Buffer.from([1, 2, 3]))), framing: true },
  { name: 'a search whose filter has an unknown CHOICE tag', bytes: message(9, tlv(0x63, str(''), integer(0, 0x0a), integer(0, 0x0a), integer(0), integer(0), bool(false), tlv(0xaf, str('x')), tlv(0x30))), framing: true },
  { name: 'a search whose scope is out of range', bytes: message(10, tlv(0x63, str(''), integer(7, 0x0a), integer(0, 0x0a), integer(0), integer(0), bool(false), str('objectClass', 0x87), tlv(0x30))), framing: true },
  { name: 'a bind whose name is not an OCTET STRING', bytes: message(11, tlv(0x60, integer(3), integer(5), str('x', 0x80))), framing: true },
  { name: 'a message nested 64 deep', bytes: message(12, Buffer.concat([Buffer.from([0x63, 0x80]), Buffer.alloc(64, 0xa2)])), framing: true },
  { name: 'a bind of LDAP version 2 (§4.2.2: protocolError)', bytes: message(4, tlv(0x60, integer(2), str(''), str('', 0x80))), answer: { id: 4, op: 0x61, resultCode: 2 } },
  { name: 'a SASL bind (authMethodNotSupported)', bytes: message(5, tlv(0x60, integer(3), str(''), tlv(0xa3, str('GSSAPI')))), answer: { id: 5, op: 0x61, resultCode: 7 } },
  { name: 'an unknown extended operation (§4.12: protocolError)', bytes: message(6, tlv(0x77, str('1.2.3.4.5.6', 0x80))), answer: { id: 6, op: 0x78, resultCode: 2 } },
  { name: 'StartTLS inside TLS (§4.14.1: operationsError)', bytes: message(7, tlv(0x77, str('1.3.6.1.4.1.1466.20037', 0x80))), answer: { id: 7, op: 0x78, resultCode: 1 } },
  { name: 'a critical control the server does not know (§4.1.11: unavailableCriticalExtension)', bytes: message(8, ROOT_DSE_SEARCH, tlv(0xa0, tlv(0x30, str('1.2.3.4.9'), bool(true)))), answer: { id: 8, op: 0x65, resultCode: 12 } },
];

/** The bytes over a completed TLS session of the kind (LDAPS, or StartTLS on the plain port). */
async function overTls(server: ServerProcess, kind: 'ldaps' | 'starttls', bytes: Buffer): Promise<Exchange> {
  const r = await exchangeOver(server, kind, bytes, 10_000);
  assert.equal(r.secured, true, `${kind}: the TLS session was set up and the certificate verified`);
  return r;
}

/** ldapts, trusting the test CA, binds as the admin over LDAPS or StartTLS and finds itself. */
async function realClientSearch(server: ServerProcess, kind: 'ldaps' | 'starttls'): Promise<void> {
  const client = new Client(kind === 'ldaps'
    ? { url: `ldaps://localhost:${server.ldapsPort}`, tlsOptions: { ca: CA }, timeout: 10_000, connectTimeout: 10_000 }
    : { url: `ldap://localhost:${server.ldapPort}`, timeout: 10_000, connectTimeout: 10_000 });
  try {
    if (kind === 'starttls') await client.startTLS({ ca: CA, servername: 'localhost' });
    await client.bind(`uid=admin,ou=people,${BASE}`, ADMIN_PASSWORD);
    const { searchEntries } = await client.search(BASE, { filter: '(uid=admin)', attributes: ['uid'] });
    assert.deepEqual(searchEntries.map((e) => e.uid), ['admin'], `${kind}: a real client's search`);
  } finally {
    await client.unbind();
  }
}

function transport(): Transport {
  const r = random();
  return r < 0.7 ? 'ldap' : r < 0.82 ? 'ldaps' : r < 0.95 ? 'starttls' : 'handshake-garbage';
}

describe(`LDAP robustness: ${COUNT} random and mutated BER messages (seed ${seed})`, () => {
  let server: ServerProcess;
  let home: ReturnType<typeof tempHome>;
  let storage: Awaited<ReturnType<typeof blackboxStorage>>;

  before(async () => {
    home = tempHome();
    storage = await blackboxStorage(home.home);
    server = await startServerProcess({ home: home.home, storage: storage.url, env: { KEYHAVEN_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    const config = { env: { KEYHAVEN_CONFIG_DIR: join(home.home, 'cli') } };
    for (const args of [
      ['login', '--server', server.url, '--username', 'admin', '--password', ADMIN_PASSWORD],
      ['ad', 'user', 'create', '--display-name', 'Fuzzed', '--user-principal-name', `${FUZZED_UID}@keyhaven.local`, '--password', 'Lantern-quarry-mossy-58'],
    ]) {
      const r = await runCli(args, config);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await server?.stop();
    await storage?.drop();
    home?.remove();
  });

  it('a length prefix claiming 1 GB is refused at once, without allocating it', async () => {
    const before = vmRssKb(server.child.pid!);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => exchange(server.ldapPort, Buffer.from([0x30, 0x84, 0x40, 0x00, 0x00, 0x00, 0x02, 0x01]), 5_000)),
    );
    for (const r of results) {
      assert.equal(r.closed, true);
      assert.ok(r.received.includes(Buffer.from('1.3.6.1.4.1.1466.20036')), 'a Notice of Disconnection');
    }
    // Twenty connections each claiming 1 GB: far less than one such buffer.
    assert.ok(vmRssKb(server.child.pid!) - before < 64 * 1024, 'RSS grew by less than 64 MiB');
  });

  for (const kind of ['ldaps', 'starttls'] as const) {
    it(`inside real ${kind === 'ldaps' ? 'LDAPS' : 'StartTLS'} sessions, answers hostile BER as RFC 4511 says and goes on serving`, { timeout: 120_000 }, async () => {
      for (const h of HOSTILE) {
        // The hostile PDU, then a well-formed Root DSE search (messageID 99) in the same session.
        const r = await overTls(server, kind, Buffer.concat([h.bytes, rootDseSearch(99)]));
        assert.equal(r.closed, true, `${h.name}: the session ends (our side closed it, or the server did)`);
        const got = answers(r.received);
        if (h.framing) {
          // §4.4.1: the unsolicited notification, and nothing for the search behind the bad PDU.
          assert.equal(got.length, 1, `${h.name}: ${JSON.stringify(got)}`);
          assert.deepEqual(got[0], { id: 0, op: 0x78, resultCode: 2, name: NOTICE_OF_DISCONNECTION }, h.name);
          continue;
        }
        const own = got.find((a) => a.id === h.answer!.id);
        assert.deepEqual(own && { id: own.id, op: own.op, resultCode: own.resultCode }, h.answer, `${h.name}: ${JSON.stringify(got)}`);
        // The session is still healthy: the Root DSE search behind it is answered in full.
        const search = got.filter((a) => a.id === 99);
        assert.deepEqual(search.map((a) => [a.op, a.resultCode]), [[0x64, undefined], [0x65, 0]], `${h.name}: the search after it`);
      }
      // And a real client, trusting the test CA, binds and searches over the same transport.
      await realClientSearch(server, kind);
      assert.equal(server.child.exitCode, null, 'the server is still running');
    });
  }

  it('stays up, answers or closes, and keeps its memory bounded', async (t) => {
    // Warm up (JIT, pools) before the baseline.
    await Promise.all(Array.from({ length: 50 }, (_, i) => exchange(server.ldapPort, seedMessage(i + 1))));
    const rssBefore = vmRssKb(server.child.pid!);
    let sent = 0;
    let stuck = 0;
    let connections = 0;
    let answered = 0;
    const tls = { ldaps: { sessions: 0, answered: 0, failed: 0 }, starttls: { sessions: 0, answered: 0, failed: 0 } };
    const worker = async () => {
      while (sent < COUNT) {
        const batch: Buffer[] = [];
        for (let i = 0; i < PER_CONNECTION && sent < COUNT; i++, sent++) {
          const valid = seedMessage(1 + int(120));
          batch.push(random() < 0.15 ? valid : mutate(valid));
        }
        connections++;
        const kind = transport();
        const bytes = kind === 'handshake-garbage' ? mutate(Buffer.concat(batch)) : Buffer.concat(batch);
        const r = await exchangeOver(server, kind, bytes);
        if (!r.closed) stuck++;
        if (r.received.length > 0) answered++;
        if (kind === 'ldaps' || kind === 'starttls') {
          if (r.secured) tls[kind].sessions++;
          else tls[kind].failed++;
          if (r.secured && r.received.length > 0) tls[kind].answered++;
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    assert.equal(stuck, 0, 'every connection is answered and closed');
    assert.ok(answered > connections / 4, `${answered} of ${connections} connections got an answer`);
    // The TLS share really reached the decoder: every handshake completed with a verified
    // certificate, and inside the sessions the server answered (results, or a Notice of
    // Disconnection after a protocol error) as it does in clear.
    t.diagnostic(`${connections} connections; TLS sessions: ${JSON.stringify(tls)}`);
    for (const [kind, n] of Object.entries(tls)) {
      assert.equal(n.failed, 0, `${kind}: ${n.failed} TLS sessions could not be set up`);
      assert.ok(n.sessions >= connections / 20, `${kind}: ${n.sessions} TLS sessions of ${connections} connections`);
      assert.ok(n.answered > n.sessions / 4, `${kind}: ${n.answered} of ${n.sessions} TLS sessions got an answer`);
    }
    assert.equal(server.child.exitCode, null, 'the server is still running');
    const rssAfter = vmRssKb(server.child.pid!);
    assert.ok(rssAfter - rssBefore < 128 * 1024, `RSS grew from ${rssBefore} to ${rssAfter} kB over ${connections} connections`);

    // And it still serves a well-behaved client.
    const client = new Client({ url: `ldap://127.0.0.1:${server.ldapPort}` });
    const whoami = await client.exop('1.3.6.1.4.1.4203.1.11.3');
    assert.equal(whoami.value ?? '', '');
    await client.unbind();
    for (const kind of ['ldaps', 'starttls'] as const) await realClientSearch(server, kind);
    assert.doesNotMatch(server.stdout(), /"level":(50|60)/, 'no error logged');
  });
});
