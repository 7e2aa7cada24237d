// Names in Key Vault, as Azure checks them.
//  - A vault name ("Naming rules for Microsoft.KeyVault"): 3–24 characters, letters, digits
//    and hyphens, starting with a letter, ending with a letter or digit, no two hyphens in a
//    row; unique in the deployment (it is a DNS label of the vault's host name).
//  - A secret name ("About keys, secrets, and certificates", object identifiers): 1–127
//    characters of 0-9, a-z, A-Z and `-`; compared ignoring case.
//  - A version: 32 lower-case hexadecimal characters, as Azure makes them.
const VAULT_NAME = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9a-fA-F]{32}$/;

export function isVaultName(name: string): boolean {
  return VAULT_NAME.test(name);
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function isSecretVersion(version: string): boolean {
  return VERSION.test(version);
}

/** What an error may echo of a caller's string: printable ASCII, bounded. */
export function echo(value: string): string {
  const p = value.replace(/[^\x20-\x7e]/g, '?');
  return p.length > 130 ? `${p.slice(0, 130)}…` : p;
}
