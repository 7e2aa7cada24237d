// LDIF content records (RFC 2849), as OpenLDAP's slapcat/ldapsearch and Active Directory's
// ldifde write them: an optional `version: 1`, comments (`#`, folded too), folded lines (a
// line starting with one space continues the previous one), `attr: value`, `attr:: base64`,
// `dn::` base64 DNs, attribute options (`userCertificate;binary`), entries separated by blank
// lines. `attr:< URL` is refused (an import must not read files or fetch URLs named inside its
// input), and so is every change record except `changetype: add` (which is an entry). Every
// error names the line it is on (LdifError.line, also in the message).
import { InvalidInputError } from '../../errors.js';

export interface LdifValue {
  /** The attribute description as written, options included (`userCertificate;binary`). */
  name: string;
  value: Buffer;
  /** The value was given base64-encoded (`attr::`). */
  base64: boolean;
  /** The line its attribute starts on (1-based). */
  line: number;
}

export interface LdifEntry {
  dn: string;
  /** The line of the `dn:` (1-based). */
  line: number;
  values: LdifValue[];
}

export class LdifError extends InvalidInputError {
  readonly line: number;

  constructor(line: number, message: string) {
    super('KH_LDIF_INVALID', `line ${line}: ${message}`, { detail: { line } });
    this.line = line;
  }
}

/** RFC 4512 AttributeDescription: a name or OID, then options (`;binary`, `;lang-en`). */
const ATTRIBUTE_DESCRIPTION = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)(?:;[A-Za-z0-9-]+)*$/;
const MAX_LINE_BYTES = 64 * 1024 * 1024;

interface LogicalLine {
  text: string;
  line: number;
}

/** Unfolds physical lines into logical ones; comments dropped; `null` stands for a blank line. */
function logicalLines(text: string): (LogicalLine | null)[] {
  const physical = text.split(/\r?\n/);
  // A final newline ends the last line; it does not start an empty one.
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop();
  const out: (LogicalLine | null)[] = [];
  let current: LogicalLine | null = null;
  let inComment = false;
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i]!;
    const lineNo = i + 1;
    if (raw.includes('\r')) throw new LdifError(lineNo, 'a bare carriage return inside a line');
    if (raw.startsWith(' ')) {
      if (inComment) continue;
      if (!current) throw new LdifError(lineNo, 'a continuation line (starting with a space) follows no line to continue');
      current.text += raw.slice(1);
      if (current.text.length > MAX_LINE_BYTES) throw new LdifError(current.line, 'a value larger than 64 MiB');
      continue;
    }
    if (current) out.push(current);
    current = null;
    inComment = false;
    if (raw === '') {
      out.push(null);
    } else if (raw.startsWith('#')) {
      inComment = true;
    } else {
      current = { text: raw, line: lineNo };
    }
  }
  if (current) out.push(current);
  return out;
}

/** Strict base64 (RFC 4648 alphabet, padded): undefined when the text is not. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const buf = Buffer.from(text, 'base64');
  return buf.toString('base64') === text ? buf : undefined;
}

function splitAttrLine(l: LogicalLine): { name: string; value: Buffer; base64: boolean } {
  const colon = l.text.indexOf(':');
  if (colon <= 0) throw new LdifError(l.line, `expected "attribute: value", found ${JSON.stringify(l.text.slice(0, 40))}`);
  const name = l.text.slice(0, colon);
  if (!ATTRIBUTE_DESCRIPTION.test(name)) throw new LdifError(l.line, `'${name.slice(0, 64)}' is not an attribute description`);
  const rest = l.text.slice(colon + 1);
  if (rest.startsWith(':')) {
    const encoded = rest.slice(1).replace(/^ +/, '').replace(/ +$/, '');
    const value = decodeBase64Strict(encoded);
    if (!value) throw new LdifError(l.line, `the value of '${name}' is not valid base64`);
    return { name, value, base64: true };
  }
  if (rest.startsWith('<')) {
    throw new LdifError(l.line, `'${name}:<' (a value read from a URL or file) is not accepted: give the value inline, base64-encoded with '${name}::'`);
  }
  const value = rest.replace(/^ +/, '');
  if (value.includes('\u0000')) throw new LdifError(l.line, `the value of '${name}' contains NUL: give it base64-encoded with '${name}::'`);
  return { name, value: Buffer.from(value, 'utf8'), base64: false };
}

/**
 * Parses LDIF content (a file's text). Throws LdifError with the offending line number;
 * returns entries in file order. Change records other than `changetype: add` are refused.
 */
export function parseLdif(input: string | Buffer): LdifEntry[] {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new LdifError(1, 'the file is not UTF-8 text (binary values must be base64-encoded with "attr::")');
    }
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines = logicalLines(text);
  const entries: LdifEntry[] = [];
  let i = 0;
  let first = true;
  while (i < lines.length) {
    const l = lines[i];
    if (l === null) {
      i++;
      continue;
    }
    // One record: the logical lines up to the next blank line.
    const record: LogicalLine[] = [];
    while (i < lines.length && lines[i] !== null) record.push(lines[i++]!);
    if (first) {
      first = false;
      const head = splitAttrLine(record[0]!);
      if (head.name.toLowerCase() === 'version') {
        if (head.value.toString('utf8').trim() !== '1') throw new LdifError(record[0]!.line, 'only LDIF version 1 is supported');
        record.shift();
        if (record.length === 0) continue;
      }
    }
    entries.push(parseRecord(record));
  }
  return entries;
}

function parseRecord(record: LogicalLine[]): LdifEntry {
  const head = record[0]!;
  const dnLine = splitAttrLine(head);
  if (dnLine.name.toLowerCase() !== 'dn') {
    if (dnLine.name.toLowerCase() === 'version') throw new LdifError(head.line, "'version:' may only be the first line");
    throw new LdifError(head.line, `an entry must start with "dn:", found '${dnLine.name.slice(0, 64)}:'`);
  }
  let dn: string;
  try {
    dn = new TextDecoder('utf-8', { fatal: true }).decode(dnLine.value);
  } catch {
    throw new LdifError(head.line, 'the DN is not UTF-8');
  }
  if (dn.trim() === '') throw new LdifError(head.line, 'an empty DN (the root DSE) cannot be imported');
  const entry: LdifEntry = { dn, line: head.line, values: [] };
  for (let k = 1; k < record.length; k++) {
    const l = record[k]!;
    const { name, value, base64 } = splitAttrLine(l);
    const lower = name.toLowerCase();
    if (lower === 'control') throw new LdifError(l.line, 'LDIF change records (control:) are not accepted: only entries');
    if (lower === 'changetype') {
      const kind = value.toString('utf8').trim().toLowerCase();
      if (k !== 1) throw new LdifError(l.line, "'changetype:' must directly follow the DN");
      if (kind !== 'add') throw new LdifError(l.line, `'changetype: ${kind.slice(0, 20)}' is not accepted: only entries (or changetype: add)`);
      continue;
    }
    if (lower === 'dn') throw new LdifError(l.line, 'a second "dn:" inside one entry (entries are separated by a blank line)');
    if (lower === '-') throw new LdifError(l.line, 'LDIF change records are not accepted: only entries');
    entry.values.push({ name, value, base64, line: l.line });
  }
  return entry;
}

/** The values of an entry grouped by attribute (names compared ignoring case; options kept). */
export function groupAttributes(entry: LdifEntry): Map<string, LdifValue[]> {
  const out = new Map<string, LdifValue[]>();
  for (const v of entry.values) {
    const key = v.name.toLowerCase();
    const list = out.get(key);
    if (list) list.push(v);
    else out.set(key, [v]);
  }
  return out;
}
