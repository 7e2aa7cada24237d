// Microsoft.KeyVault's subscription-level endpoints beside the vaults themselves (Key Vault
// management REST API, "Vaults - List Deleted / Get Deleted / Purge Deleted"):
//   GET  /subscriptions/{id}/providers/Microsoft.KeyVault/deletedVaults
//   GET  /subscriptions/{id}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}
//   POST /subscriptions/{id}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}/purge
import { NotFoundError } from '../../errors.js';
import { checkApiVersion } from '../../resources/api-versions.js';
import { KEY_VAULT_API_VERSIONS } from '../../resources/providers/key-vault.js';
import { printable } from '../../resources/resource-id.js';
import type { DeletedVault } from '../../vault/deleted-vaults.js';
import { methodNotAllowed, type ArmCall, type ArmDeps } from './arm-context.js';

const READ = 'Microsoft.KeyVault/deletedVaults/read';
const PURGE = 'Microsoft.KeyVault/locations/deletedVaults/purge/action';

function deletedVaultJson(v: DeletedVault): Record<string, unknown> {
  return {
    id: `/subscriptions/${v.subscriptionId}/providers/Microsoft.KeyVault/locations/${v.location}/deletedVaults/${v.name}`,
    name: v.name,
    type: 'Microsoft.KeyVault/deletedVaults',
    properties: { vaultId: v.vaultId, location: v.location, deletionDate: v.deletionDate, scheduledPurgeDate: v.scheduledPurgeDate, tags: v.tags, purgeProtectionEnabled: v.purgeProtectionEnabled },
  };
}

/** `rest`: the segments after /subscriptions/{id}/providers/Microsoft.KeyVault. */
export async function keyVaultSubscriptionOperations(deps: ArmDeps, call: ArmCall, subscriptionId: string, rest: string[]): Promise<unknown> {
  const deleted = deps.deletedVaults;
  const lower = rest.map((r) => r.toLowerCase());
  if (!deleted) throw new NotFoundError('KH_ARM_NO_SUCH_PATH', 'No route.');
  const scope = `/subscriptions/${subscriptionId}`;
  checkApiVersion(call.query['api-version'], KEY_VAULT_API_VERSIONS, 'deletedVaults', true);
  if (rest.length === 1 && lower[0] === 'deletedvaults') {
    if (call.request.method !== 'GET') methodNotAllowed(call.request.method);
    await deps.authorizer.require(call.principal.objectId, READ, scope);
    await deps.resources.requireSubscription(subscriptionId);
    return { value: (await deleted.list(subscriptionId)).map(deletedVaultJson) };
  }
  if ((rest.length === 4 || rest.length === 5) && lower[0] === 'locations' && lower[2] === 'deletedvaults') {
    const [, location, , name] = rest as [string, string, string, string];
    if (rest.length === 4) {
      if (call.request.method !== 'GET') methodNotAllowed(call.request.method);
      await deps.authorizer.require(call.principal.objectId, READ, scope);
      return deletedVaultJson(await deleted.get(subscriptionId, location, name));
    }
    if (lower[4] === 'purge') {
      if (call.request.method !== 'POST') methodNotAllowed(call.request.method);
      await deps.authorizer.require(call.principal.objectId, PURGE, scope);
      await deleted.purge(call.actor, subscriptionId, location, name);
      call.reply.status(200);
      return '';
    }
  }
  throw new NotFoundError('KH_ARM_NO_SUCH_PATH', `No route for '${printable(call.request.url.split('?')[0]!)}'.`);
}
