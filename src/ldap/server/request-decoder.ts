// Decodes one LDAPMessage PDU (RFC 4511 §4.1.1) into a typed request. Anything that is not a
// well-formed request is a ProtocolError: the connection answers with a Notice of
// Disconnection and closes (§4.4.1). Filters are handed to @ldapjs/filter's BER parser after
// the structure (and its nesting depth) has been checked here.
import { BerReader as LdapjsBerReader } from '@ldapjs/asn1';
import { parseBer, type FilterString } from '@ldapjs/filter';
import type { LdapChange, LdapWriteAttribute, SearchScope } from '../ldap-directory.js';
import { BER, BerError, BerReader, decodeInteger, decodeUtf8 } from './ber.js';

export class ProtocolError extends Error {
  constructor(
    message: string,
    /** The messageID when it could be read, so the error can be answered on that operation. */
    readonly messageId?: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface RequestControl {
  oid: string;
  critical: boolean;
  value: Buffer | undefined;
}

/** [APPLICATION n] tags of the protocolOp CHOICE (RFC 4511 Appendix B). */
export const OP = {
  bindRequest: 0x60,
  bindResponse: 0x61,
  unbindRequest: 0x42,
  searchRequest: 0x63,
  searchResultEntry: 0x64,
  searchResultDone: 0x65,
  modifyRequest: 0x66,
  modifyResponse: 0x67,
  addRequest: 0x68,
  addResponse: 0x69,
  delRequest: 0x4a,
  delResponse: 0x6b,
  modDnRequest: 0x6c,
  modDnResponse: 0x6d,
  compareRequest: 0x6e,
  compareResponse: 0x6f,
  abandonRequest: 0x50,
  extendedRequest: 0x77,
  extendedResponse: 0x78,
} as const;

export type LdapRequest =
  | { type: 'bind'; version: number; name: string; simple: Buffer | undefined; saslMechanism: string | undefined }
  | { type: 'unbind' }
  | {
      type: 'search';
      baseDn: string;
      scope: SearchScope;
      sizeLimit: number;
      timeLimit: number;
      typesOnly: boolean;
      filter: FilterString;
      attributes: string[];
    }
  | { type: 'compare'; dn: string; attribute: string; value: string }
  | { type: 'abandon'; targetId: number }
  | { type: 'extended'; oid: string; value: Buffer | undefined }
  /**
   * add, modify, delete (decoded, RFC 4511 §4.6–4.8) and modifyDN (not decoded): answered
   * unwillingToPerform with this response tag unless admin writes are on (operations/write.ts).
   */
  | { type: 'write'; responseTag: number; write: WriteOperation };

export type WriteOperation =
  | { op: 'modify'; dn: string; changes: LdapChange[] }
  | { op: 'add'; dn: string; attributes: LdapWriteAttribute[] }
  | { op: 'delete'; dn: string }
  | { op: 'modDn' };

export interface DecodedMessage {
  messageId: number;
  request: LdapRequest;
  controls: RequestControl[];
}

const SCOPES: SearchScope[] = ['base', 'one', 'sub'];
const MOD_OPS: LdapChange['operation'][] = ['add', 'delete', 'replace'];
const WRITE_RESPONSES: Record<number, number> = {
  [OP.modifyRequest]: OP.modifyResponse,
  [OP.addRequest]: OP.addResponse,
  [OP.delRequest]: OP.delResponse,
  [OP.modDnRequest]: OP.modDnResponse,
};

export function decodeMessage(pdu: Buffer): DecodedMessage {
  let messageId: number | undefined;
  try {
    const outer = new BerReader(pdu).sub(BER.sequence);
    messageId = outer.integer();
    if (messageId < 0) throw new BerError('negative messageID');
    const op = outer.read();
    const request = decodeOp(op.tag, op.content, outer);
    const controls: RequestControl[] = [];
    const controlsEl = outer.optional(0xa0);
    if (controlsEl) {
      const list = outer.child(controlsEl);
      while (!list.done) controls.push(decodeControl(list.sub(BER.sequence)));
    }
    // Trailing elements after controls are tolerated (RFC 4511 §4 extensibility).
    if (messageId === 0 && request.type !== 'unbind') throw new BerError('messageID 0 is reserved for unsolicited notifications');
    return { messageId, request, controls };
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError(err instanceof Error ? err.message : 'malformed message', messageId);
  }
}

function decodeOp(tag: number, content: Buffer, parent: BerReader): LdapRequest {
  switch (tag) {
    case OP.bindRequest: {
      const r = parent.child({ tag, content });
      const version = r.integer();
      const name = r.string();
      const auth = r.read();
      if (auth.tag === 0x80) return { type: 'bind', version, name, simple: auth.content, saslMechanism: undefined };
      if (auth.tag === 0xa3) {
        const sasl = r.child(auth);
        return { type: 'bind', version, name, simple: undefined, saslMechanism: sasl.string() };
      }
      throw new BerError('unknown authentication choice');
    }
    case OP.unbindRequest:
      return { type: 'unbind' };
    case OP.searchRequest: {
      const r = parent.child({ tag, content });
      const baseDn = r.string();
      const scope = SCOPES[r.integer(BER.enumerated)];
      if (!scope) throw new BerError('unknown search scope');
      r.integer(BER.enumerated); // derefAliases: the directory has no aliases
      const sizeLimit = r.integer();
      const timeLimit = r.integer();
      if (sizeLimit < 0 || timeLimit < 0) throw new BerError('negative limit');
      const typesOnly = r.boolean();
      const filter = decodeFilter(r);
      const attrs = r.sub(BER.sequence);
      const attributes: string[] = [];
      while (!attrs.done) attributes.push(attrs.string());
      return { type: 'search', baseDn, scope, sizeLimit, timeLimit, typesOnly, filter, attributes };
    }
    case OP.compareRequest: {
      const r = parent.child({ tag, content });
      const dn = r.string();
      const ava = r.sub(BER.sequence);
      return { type: 'compare', dn, attribute: ava.string(), value: ava.string() };
    }
    case OP.abandonRequest: {
      return { type: 'abandon', targetId: decodeInteger(content) };
    }
    case OP.extendedRequest: {
      const r = parent.child({ tag, content });
      const oid = r.string(0x80);
      const value = r.optional(0x81)?.content;
      return { type: 'extended', oid, value };
    }
    case OP.modifyRequest: {
      const r = parent.child({ tag, content });
      const dn = r.string();
      const list = r.sub(BER.sequence);
      const changes: LdapChange[] = [];
      while (!list.done) {
        const c = list.sub(BER.sequence);
        const operation = MOD_OPS[c.integer(BER.enumerated)];
        if (!operation) throw new BerError('unknown modify operation');
        changes.push({ operation, ...partialAttribute(c.sub(BER.sequence)) });
      }
      return { type: 'write', responseTag: OP.modifyResponse, write: { op: 'modify', dn, changes } };
    }
    case OP.addRequest: {
      const r = parent.child({ tag, content });
      const dn = r.string();
      const list = r.sub(BER.sequence);
      const attributes: LdapWriteAttribute[] = [];
      while (!list.done) attributes.push(partialAttribute(list.sub(BER.sequence)));
      return { type: 'write', responseTag: OP.addResponse, write: { op: 'add', dn, attributes } };
    }
    case OP.delRequest:
      return { type: 'write', responseTag: OP.delResponse, write: { op: 'delete', dn: decodeUtf8(content) } };
    default: {
      const responseTag = WRITE_RESPONSES[tag];
      if (responseTag !== undefined) return { type: 'write', responseTag, write: { op: 'modDn' } };
      throw new BerError(`unknown protocol operation 0x${tag.toString(16)}`);
    }
  }
}

/** RFC 4511 §4.5.1.7; nesting is bounded by BerReader's depth cap before @ldapjs/filter recurses. */
function decodeFilter(r: BerReader): FilterString {
  const { raw, tag, content } = r.readRaw();
  checkFilterDepth(tag, content, 0);
  try {
    return parseBer(new LdapjsBerReader(Buffer.from(raw)));
  } catch (err) {
    throw new BerError(`bad filter: ${err instanceof Error ? err.message : 'unparseable'}`);
  }
}

function checkFilterDepth(tag: number, content: Buffer, depth: number): void {
  if (depth > 32) throw new BerError('filter nested too deeply');
  // and [0], or [1] hold SET OF Filter; not [2] holds one Filter.
  if (tag === 0xa0 || tag === 0xa1 || tag === 0xa2) {
    const r = new BerReader(content);
    let count = 0;
    while (!r.done) {
      const el = r.read();
      checkFilterDepth(el.tag, el.content, depth + 1);
      count++;
    }
    if (tag === 0xa2 && count !== 1) throw new BerError('not holds exactly one filter');
  }
}

/** PartialAttribute ::= SEQUENCE { type AttributeDescription, vals SET OF value } (values kept as bytes). */
function partialAttribute(r: BerReader): LdapWriteAttribute {
  const type = r.string();
  const set = r.sub(BER.set);
  const values: Buffer[] = [];
  while (!set.done) values.push(set.octets());
  return { type, values };
}

function decodeControl(r: BerReader): RequestControl {
  const oid = r.string();
  let critical = false;
  if (r.peekTag() === BER.boolean) critical = r.boolean();
  const value = r.optional(BER.octetString)?.content;
  return { oid, critical, value };
}
