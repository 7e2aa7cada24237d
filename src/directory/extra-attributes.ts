// Room for attributes Keyhaven has no column for: an LDIF import from OpenLDAP or Active
// Directory brings arbitrary ones (employeeNumber, departmentNumber, jpegPhoto, …), kept
// per user and group as attribute → values and served back over LDAP. Text values are
// strings; binary values (an LDIF `attr:: base64` line) are `{ base64 }` objects, so the two
// can never be confused. Attributes that Keyhaven models itself are refused here, and so is
// every password attribute: an imported hash must go through the password path (and be
// replaced at first sign-in), never sit in a free-form map that LDAP serves back.
import { InvalidInputError } from '../errors.js';

export type ExtraValue = string | { base64: string };
export type ExtraAttributes = Record<string, ExtraValue[]>;

const NAME = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
const MAX_ATTRIBUTES = 64;
const MAX_VALUES = 256;
const MAX_TOTAL_BYTES = 256 * 1024;

/** Lower-cased LDAP names that map to Keyhaven's own properties or hold secrets. */
const RESERVED = new Set([
  'objectclass', 'uid', 'cn', 'sn', 'givenname', 'displayname', 'mail', 'userprincipalname', 'samaccountname',
  'uidnumber', 'gidnumber', 'homedirectory', 'loginshell', 'sshpublickey', 'member', 'memberof', 'memberuid',
  'entryuuid', 'objectguid', 'objectsid', 'description', 'useraccountcontrol', 'pwdaccountlockedtime',
  'userpassword', 'authpassword', 'unicodepwd', 'sambantpassword', 'sambalmpassword', 'krbprincipalkey',
]);

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('KH_EXTRA_ATTRIBUTES_INVALID', message);
}

/** Validates a whole map (it replaces the stored one) and returns its JSON text. */
export function checkExtraAttributes(value: unknown): string {
  if (value === null || value === undefined) return '{}';
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('keyhavenExtraAttributes must be an object of attribute name → list of values.');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_ATTRIBUTES) throw invalid(`keyhavenExtraAttributes may hold at most ${MAX_ATTRIBUTES} attributes.`);
  const out: ExtraAttributes = {};
  const seen = new Set<string>();
  for (const [name, values] of entries) {
    if (!NAME.test(name)) throw invalid(`'${name.slice(0, 64)}' is not an LDAP attribute name (a letter, then letters, digits or '-').`);
    const lower = name.toLowerCase();
    if (RESERVED.has(lower) || lower.includes('password') || lower.startsWith('pwd')) {
      throw invalid(`'${name}' is managed by Keyhaven itself (or holds a password) and cannot be set as an extra attribute.`);
    }
    // LDAP attribute names ignore case: "employeeNumber" and "EmployeeNumber" are one attribute.
    if (seen.has(lower)) throw invalid(`'${name}' is given twice (attribute names ignore case).`);
    seen.add(lower);
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_VALUES) {
      throw invalid(`'${name}' must have from 1 to ${MAX_VALUES} values.`);
    }
    out[name] = values.map((v) => checkValue(name, v));
  }
  const json = JSON.stringify(out);
  if (Buffer.byteLength(json) > MAX_TOTAL_BYTES) throw invalid(`keyhavenExtraAttributes may hold at most ${MAX_TOTAL_BYTES / 1024} KiB.`);
  return json;
}

function checkValue(name: string, v: unknown): ExtraValue {
  if (typeof v === 'string') {
    // NUL cannot be stored as PostgreSQL text; a value that needs it is binary.
    if (v.includes('\u0000')) throw invalid(`a value of '${name}' contains NUL: give it as { "base64": … }.`);
    return v;
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    const b64 = (v as { base64?: unknown }).base64;
    if (keys.length === 1 && typeof b64 === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(b64) && b64.length % 4 === 0) return { base64: b64 };
  }
  throw invalid(`the values of '${name}' must be strings or { "base64": "…" } objects.`);
}

export function parseExtraAttributes(json: string): ExtraAttributes {
  return JSON.parse(json) as ExtraAttributes;
}
