// Encodes the server's PDUs (RFC 4511 §4.1.9, §4.2.2, §4.5.2, §4.12): results, search entries,
// extended responses, and response controls.
import { BER, encodeInteger, encodeString, tlv } from './ber.js';
import { OP } from './request-decoder.js';

export interface ResponseControl {
  oid: string;
  value?: Buffer;
}

export interface LdapResult {
  resultCode: number;
  matchedDn?: string;
  diagnosticMessage?: string;
}

export function encodeMessage(messageId: number, protocolOp: Buffer, controls: ResponseControl[] = []): Buffer {
  const encodedControls =
    controls.length === 0
      ? undefined
      : tlv(0xa0, ...controls.map((c) => tlv(BER.sequence, encodeString(c.oid), c.value ? encodeString(c.value) : undefined)));
  return tlv(BER.sequence, encodeInteger(messageId), protocolOp, encodedControls);
}

function resultParts(result: LdapResult): Buffer[] {
  return [
    encodeInteger(result.resultCode, BER.enumerated),
    encodeString(result.matchedDn ?? ''),
    encodeString(result.diagnosticMessage ?? ''),
  ];
}

/** An LDAPResult-shaped response under `responseTag` (bind, search done, compare, writes…). */
export function encodeResult(responseTag: number, result: LdapResult): Buffer {
  return tlv(responseTag, ...resultParts(result));
}

export function encodeExtendedResponse(result: LdapResult, responseName?: string, responseValue?: Buffer): Buffer {
  return tlv(
    OP.extendedResponse,
    ...resultParts(result),
    responseName === undefined ? undefined : encodeString(responseName, 0x8a),
    responseValue === undefined ? undefined : encodeString(responseValue, 0x8b),
  );
}

/** SearchResultEntry (RFC 4511 §4.5.2); `typesOnly` sends each attribute with no values. */
export function encodeSearchEntry(entry: { dn: string; attributes: Iterable<{ name: string; values: (string | Buffer)[] }> }, typesOnly: boolean): Buffer {
  const attributes: Buffer[] = [];
  for (const attr of entry.attributes) {
    const values = typesOnly ? [] : attr.values.map((v) => encodeString(v));
    attributes.push(tlv(BER.sequence, encodeString(attr.name), tlv(BER.set, ...values)));
  }
  return tlv(OP.searchResultEntry, encodeString(entry.dn), tlv(BER.sequence, ...attributes));
}


/** Notice of Disconnection (RFC 4511 §4.4.1): an unsolicited extended response, messageID 0. */
export const NOTICE_OF_DISCONNECTION = '1.3.6.1.4.1.1466.20036';

export function encodeNoticeOfDisconnection(resultCode: number, message: string): Buffer {
  return encodeMessage(0, encodeExtendedResponse({ resultCode, diagnosticMessage: message }, NOTICE_OF_DISCONNECTION));
}

