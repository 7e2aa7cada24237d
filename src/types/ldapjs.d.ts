// The @ldapjs/* codec packages ship JavaScript without type declarations. These are the
// narrow shapes Keyhaven uses; widen them here, in one place, when more is needed.
declare module '@ldapjs/filter' {
  /** A parsed RFC 4515 filter node (and/or/not/equality/substring/ge/le/present/approx/ext). */
  export interface FilterString {
    readonly type: string;
    toString(): string;
    [key: string]: unknown;
  }
  export function parseString(text: string): FilterString;
  export function parseBer(ber: unknown): FilterString;
  const filter: { parseString: typeof parseString; parseBer: typeof parseBer; [key: string]: unknown };
  export default filter;
}
declare module '@ldapjs/asn1';
declare module '@ldapjs/messages';
declare module '@ldapjs/dn';
declare module '@ldapjs/controls';
