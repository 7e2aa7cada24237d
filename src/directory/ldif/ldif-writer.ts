// Writes LDIF content records (RFC 2849): `version: 1`, then each entry's DN and values, a
// value base64-encoded (`attr::`) when it is not a SAFE-STRING — any byte outside printable
// ASCII (so every non-ASCII UTF-8 value and every binary one), or a leading space, ':' or '<',
// or a trailing space — and every line folded at 76 columns (continuations start with one
// space). Output is pure ASCII, so columns and bytes agree.

export interface LdifOutEntry {
  dn: string;
  attributes: { name: string; values: (string | Buffer)[] }[];
}

export const LDIF_FOLD_COLUMN = 76;

/** Whether a value needs base64 in LDIF (RFC 2849 SAFE-STRING rules, ASCII-only). */
export function needsBase64(value: Buffer): boolean {
  if (value.length === 0) return false;
  const first = value[0]!;
  if (first === 0x20 || first === 0x3a || first === 0x3c) return true;
  if (value[value.length - 1] === 0x20) return true;
  for (const b of value) {
    if (b < 0x20 || b > 0x7e) return true;
  }
  return false;
}

/** One `name: value` or `name:: base64` line, folded. */
export function ldifLine(name: string, value: string | Buffer): string {
  const buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const line = needsBase64(buf) ? `${name}:: ${buf.toString('base64')}` : buf.length === 0 ? `${name}:` : `${name}: ${buf.toString('latin1')}`;
  return fold(line);
}

/** Folds one logical line: the first physical line holds 76 characters, each continuation a space and 75. */
export function fold(line: string, width = LDIF_FOLD_COLUMN): string {
  if (line.length <= width) return line;
  const parts = [line.slice(0, width)];
  for (let i = width; i < line.length; i += width - 1) parts.push(` ${line.slice(i, i + width - 1)}`);
  return parts.join('\n');
}

export function writeLdifEntry(entry: LdifOutEntry): string {
  const lines = [ldifLine('dn', entry.dn)];
  for (const attribute of entry.attributes) {
    for (const value of attribute.values) lines.push(ldifLine(attribute.name, value));
  }
  return `${lines.join('\n')}\n`;
}

/** A whole file: `version: 1`, then the entries separated by blank lines. */
export function writeLdif(entries: Iterable<LdifOutEntry>, header?: string): string {
  const parts: string[] = [];
  if (header) parts.push(header.split('\n').map((l) => fold(`# ${l}`)).join('\n') + '\n');
  parts.push('version: 1\n');
  for (const entry of entries) parts.push(writeLdifEntry(entry));
  return parts.join('\n');
}
