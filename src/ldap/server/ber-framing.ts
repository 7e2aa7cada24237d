// Cuts a TCP/TLS byte stream into whole LDAPMessage PDUs (RFC 4511 §5.1). The length prefix is
// checked before anything is kept: a PDU announced larger than `maxMessageBytes` is refused
// as soon as its header arrives, so a client claiming 1 GB makes us allocate nothing. The
// buffer of a connection therefore never holds more than one PDU's worth plus one chunk.
import { BER, BerError, readHeader } from './ber.js';

export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

export class BerFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Size of the PDU being assembled once its header is known: chunks are joined only then. */
  private needed = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Appends a chunk and returns the complete PDUs it finished. Throws FramingError. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes === 0 || this.pendingBytes < this.needed) break;
      const buf = this.pending.length === 1 ? this.pending[0]! : this.merge();
      let header;
      try {
        header = readHeader(buf, 0);
      } catch (err) {
        throw new FramingError(err instanceof BerError ? err.message : 'bad header');
      }
      if (buf[0] !== BER.sequence) throw new FramingError('an LDAPMessage is a SEQUENCE');
      if (!header) {
        // At most 6 header bytes are ever needed; more pending without a header is impossible.
        break;
      }
      const total = header.headerLength + header.contentLength;
      if (total > this.maxMessageBytes) throw new FramingError(`message of ${total} bytes exceeds the limit of ${this.maxMessageBytes}`);
      if (buf.length < total) {
        this.needed = total;
        break;
      }
      this.needed = 0;
      messages.push(buf.subarray(0, total));
      const rest = buf.subarray(total);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return messages;
  }

  /** Bytes received but not yet part of a whole PDU. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private merge(): Buffer {
    const merged = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [merged];
    return merged;
  }
}
