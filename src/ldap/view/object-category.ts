// Active Directory's objectCategory: every object names the class it is indexed under, as the
// DN of that class in the schema container (`CN=Person,CN=Schema,CN=Configuration,{forest}`) —
// users (and inetOrgPersons) under Person, groups under Group. AD tools search by it, and
// mostly by the short form: `(&(objectCategory=person)(objectClass=user)(sAMAccountName=…))` is
// the classic user lookup (and what AD guides give JupyterHub's LDAPAuthenticator). AD accepts
// a class's lDAPDisplayName in place of the DN in an equality on objectCategory and matches
// the category that class's defaultObjectCategory names ([MS-ADTS] 3.1.1.3.1.3.1, "objectCategory").
const DEFAULT_CATEGORY: Readonly<Record<string, string>> = {
  person: 'Person', organizationalperson: 'Person', user: 'Person', inetorgperson: 'Person', contact: 'Person',
  group: 'Group', computer: 'Computer',
};

export function objectCategoryDn(category: 'Person' | 'Group', baseDn: string): string {
  return `CN=${category},CN=Schema,CN=Configuration,${baseDn}`;
}

/**
 * For an equality assertion on objectCategory whose value is no DN (no `=`): the category's
 * RDN value it stands for (`person` → `Person`), or null when no class by that name has one
 * (the assertion then matches nothing, as in AD). Undefined when the value is a DN: the
 * ordinary distinguishedNameMatch applies.
 */
export function categoryOfShortName(value: string): string | null | undefined {
  if (value.includes('=')) return undefined;
  return DEFAULT_CATEGORY[value.trim().toLowerCase()] ?? null;
}
