// Active Directory's binary identifiers and time format, as AD-minded clients read them.
//  - objectGUID: the 16 bytes of the GUID in Microsoft's mixed-endian layout (MS-DTYP §2.3.4.2:
//    Data1, Data2, Data3 little-endian, Data4 as is), so a client that formats it back
//    (`[guid]` in PowerShell, ldap3's format_uuid_le) shows the object id.
//  - objectSid: a SID (MS-DTYP §2.4.2.2) S-1-5-21-a-b-c-RID, with the three domain
//    sub-authorities from a hash of the base DN and the RID from the object id, so it is
//    stable for an object and distinct across objects in practice.
//  - whenCreated/whenChanged: GeneralizedTime as AD writes it (`20240102030405.0Z`);
//    createTimestamp/modifyTimestamp as OpenLDAP does (`20240102030405Z`).
import { createHash } from 'node:crypto';

export function objectGuid(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  if (b.length !== 16) return Buffer.alloc(16);
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

/** The domain part of SIDs for a directory, from its base DN. */
export function domainSubAuthorities(baseDnKey: string): [number, number, number] {
  const h = createHash('sha256').update(`keyhaven-domain-sid:${baseDnKey}`).digest();
  return [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8)];
}

/** A relative id above AD's well-known range (1000+), from the object id. */
export function relativeId(objectId: string): number {
  const h = createHash('sha256').update(objectId).digest();
  return 1000 + (h.readUInt32LE(0) % 0x3fff_0000);
}

export function objectSid(domain: readonly [number, number, number], rid: number): Buffer {
  const subs = [21, ...domain, rid];
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = 1; // revision
  b[1] = subs.length;
  b.writeUIntBE(5, 2, 6); // SECURITY_NT_AUTHORITY
  subs.forEach((s, i) => b.writeUInt32LE(s >>> 0, 8 + 4 * i));
  return b;
}

export function sidString(sid: Buffer): string {
  const count = sid[1]!;
  const parts = [`S-${sid[0]}-${sid.readUIntBE(2, 6)}`];
  for (let i = 0; i < count; i++) parts.push(String(sid.readUInt32LE(8 + 4 * i)));
  return parts.join('-');
}

function stamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '19700101000000';
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** AD's form: `YYYYMMDDHHMMSS.0Z`. */
export function adTime(iso: string): string {
  return `${stamp(iso)}.0Z`;
}

/** OpenLDAP's form: `YYYYMMDDHHMMSSZ`. */
export function ldapTime(iso: string): string {
  return `${stamp(iso)}Z`;
}

/** userAccountControl flags (MS-ADTS §2.2.16). */
export const UF_ACCOUNTDISABLE = 0x2;
export const UF_NORMAL_ACCOUNT = 0x200;
/** sAMAccountType (MS-ADTS §2.2.15). */
export const SAM_USER_OBJECT = 0x30000000;
export const SAM_GROUP_OBJECT = 0x10000000;
/** groupType of a global security group (MS-ADTS §2.2.12): GLOBAL_GROUP | SECURITY_ENABLED, as a signed 32-bit integer. */
export const GLOBAL_SECURITY_GROUP = -2147483646;
