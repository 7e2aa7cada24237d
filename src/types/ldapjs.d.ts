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
  // Constructors of the filter classes (the view builds filters from RFC 4515 text with the
  // escapes decoded, as parseBer yields them from the wire).
  export const AndFilter: new (o: { filters: FilterString[] }) => FilterString;
  export const OrFilter: new (o: { filters: FilterString[] }) => FilterString;
  export const NotFilter: new (o: { filter: FilterString }) => FilterString;
  export const EqualityFilter: new (o: { attribute: string; raw: Buffer }) => FilterString;
  export const ApproximateFilter: new (o: { attribute: string; value: string }) => FilterString;
  export const GreaterThanEqualsFilter: new (o: { attribute: string; value: string }) => FilterString;
  export const LessThanEqualsFilter: new (o: { attribute: string; value: string }) => FilterString;
  export const PresenceFilter: new (o: { attribute: string }) => FilterString;
  export const SubstringFilter: new (o: { attribute: string; initial?: string | undefined; any?: string[]; final?: string | undefined }) => FilterString;
  export const ExtensibleFilter: new (o: { attribute?: string | undefined; value: string; rule?: string | undefined; dnAttributes?: boolean }) => FilterString;
  const filter: {
    parseString: typeof parseString; parseBer: typeof parseBer;
    AndFilter: typeof AndFilter; OrFilter: typeof OrFilter; NotFilter: typeof NotFilter; EqualityFilter: typeof EqualityFilter;
    ApproximateFilter: typeof ApproximateFilter; GreaterThanEqualsFilter: typeof GreaterThanEqualsFilter;
    LessThanEqualsFilter: typeof LessThanEqualsFilter; PresenceFilter: typeof PresenceFilter; SubstringFilter: typeof SubstringFilter;
    ExtensibleFilter: typeof ExtensibleFilter; [key: string]: unknown;
  };
  export default filter;
}
declare module '@ldapjs/asn1';
declare module '@ldapjs/messages';
declare module '@ldapjs/dn';
declare module '@ldapjs/controls';
