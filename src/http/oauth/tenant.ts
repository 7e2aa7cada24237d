// Which tenant a path names. Keyhaven serves one tenant: its GUID, and the aliases Entra
// clients use for multi-tenant authorities (`organizations`, `common`). Anything else is
// Entra's AADSTS90002 "Tenant not found".
import { InvalidInputError } from '../../errors.js';

const ALIASES = new Set(['organizations', 'common']);

export function checkTenant(tenantId: string, requested: string): void {
  const t = requested.toLowerCase();
  if (t === tenantId.toLowerCase() || ALIASES.has(t)) return;
  const shown = requested.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
  throw new InvalidInputError('KH_OAUTH_TENANT_NOT_FOUND', `Tenant '${shown}' not found.`);
}
