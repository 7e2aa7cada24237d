// A joined machine asking for a token of one of its resource's managed identities (what the
// metadata agent of issue 11 asks for): client_credentials with the machine's assertion plus one
// of
//   identity=system                  the VM's or scale set's system-assigned identity
//   identity_client_id=GUID          a user-assigned identity by client id
//   identity_object_id=GUID          … by principal (object) id
//   identity_res_id=ARM id           … by resource id
// The token speaks for the identity (its oid and appid), and still carries the machine
// (`kh_machine`), so revoking the machine stops it while the identity — shared by the pool — and
// the other machines' tokens keep working. Without these parameters a machine's token speaks for
// the machine itself.
import { InvalidInputError } from '../../errors.js';
import type { AuthenticatedClient } from '../client-authentication.js';
import type { GrantRequest } from './grant.js';

export type MachineIdentityRequest =
  | { kind: 'system' }
  | { kind: 'clientId' | 'objectId' | 'resourceId'; value: string };

export interface ResolvedMachineIdentity {
  /** The identity's service principal object id (the token's oid). */
  objectId: string;
  /** Its client id (appid / azp). */
  appId: string;
  /** `xms_mirid`: the VM or scale set for a system-assigned identity, the identity's id for a user-assigned one. */
  resourceId: string;
}

/** Finds an identity of a machine's resource (src/machines/machine-identities.ts). */
export interface MachineIdentityResolver {
  resolve(machineResourceId: string, request: MachineIdentityRequest): Promise<ResolvedMachineIdentity>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PARAMS = ['identity', 'identity_client_id', 'identity_object_id', 'identity_res_id'] as const;

function refused(message: string): InvalidInputError {
  return new InvalidInputError('KH_MACHINE_IDENTITY_NOT_FOUND', message);
}

/** The identity the request asks for, or undefined (the machine itself). */
export function machineIdentityRequest(request: GrantRequest, client: AuthenticatedClient): MachineIdentityRequest | undefined {
  const given = PARAMS.filter((p) => request.params.get(p) !== undefined && request.params.get(p) !== '');
  if (given.length === 0) return undefined;
  if (!client.machine) throw refused('Only a joined machine may ask for a token of a managed identity.');
  if (given.length > 1) throw refused(`Give one of ${PARAMS.join(', ')}.`);
  const name = given[0]!;
  const value = request.params.get(name)!;
  if (name === 'identity') {
    if (value !== 'system') throw refused("identity must be 'system'.");
    return { kind: 'system' };
  }
  if (name === 'identity_res_id') {
    if (value.length > 1024 || !value.startsWith('/subscriptions/')) throw refused('identity_res_id must be an identity\'s resource id.');
    return { kind: 'resourceId', value: value.toLowerCase() };
  }
  if (!GUID.test(value)) throw refused(`${name} must be a GUID.`);
  return { kind: name === 'identity_client_id' ? 'clientId' : 'objectId', value: value.toLowerCase() };
}
