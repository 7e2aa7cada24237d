// Which identity a metadata request asks for: the machine's system-assigned identity by default,
// or one of its user-assigned identities by `client_id`, `object_id` or `msi_res_id` (IMDS's
// names; `mi_res_id` is the non-IMDS sources' spelling and `clientid` Azure ML's 2017 one, both
// accepted). Values are checked here, so nothing malformed reaches the server.
import { IMDS_ERRORS } from './imds-errors.js';

export type IdentitySelector =
  | { kind: 'system' }
  | { kind: 'clientId'; value: string }
  | { kind: 'objectId'; value: string }
  | { kind: 'resourceId'; value: string };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An ARM id of a user-assigned identity (case-insensitive, as ARM compares ids). */
const IDENTITY_ID = /^\/subscriptions\/[0-9a-f-]{36}\/resourcegroups\/[-\w._()]{1,90}\/providers\/microsoft\.managedidentity\/userassignedidentities\/[-\w]{3,128}$/i;

export function selectorOf(params: ReadonlyMap<string, string> | URLSearchParams): IdentitySelector {
  const get = (name: string) => {
    const v = params.get(name);
    return v === null || v === undefined || v === '' ? undefined : v;
  };
  const clientId = get('client_id') ?? get('clientid');
  const objectId = get('object_id') ?? get('principal_id');
  const resourceId = get('msi_res_id') ?? get('mi_res_id');
  const given = [clientId, objectId, resourceId].filter((v) => v !== undefined).length;
  if (given > 1) throw IMDS_ERRORS.severalSelectors();
  if (clientId !== undefined) {
    if (!GUID.test(clientId)) throw IMDS_ERRORS.identityParameter('client_id');
    return { kind: 'clientId', value: clientId.toLowerCase() };
  }
  if (objectId !== undefined) {
    if (!GUID.test(objectId)) throw IMDS_ERRORS.identityParameter('object_id');
    return { kind: 'objectId', value: objectId.toLowerCase() };
  }
  if (resourceId !== undefined) {
    if (!IDENTITY_ID.test(resourceId)) throw IMDS_ERRORS.identityParameter('msi_res_id');
    return { kind: 'resourceId', value: resourceId.toLowerCase() };
  }
  return { kind: 'system' };
}

/** The cache key part for an identity. */
export function selectorKey(s: IdentitySelector): string {
  return s.kind === 'system' ? 'system' : `${s.kind}:${s.value}`;
}
