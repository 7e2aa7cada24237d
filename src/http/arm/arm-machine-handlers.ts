// Machine enrollment on the management plane, as actions and child collections of a machine
// resource (src/machines/):
//   POST {vm or vmss id}/generateJoinToken?api-version=…  {maxUses?, expiresInSeconds?}
//        → {id, token, resourceId, maxUses, expiresOn}; the token is shown only here
//   GET  {id}/machines                 the machines joined to it
//   GET  {id}/machines/{machineId}     one
//   POST {id}/machines/{machineId}/revoke
// Authorized as ARM does (before anything is looked up): write on the VM or scale set to issue
// a token or revoke a machine, read to list them.
import { NotFoundError } from '../../errors.js';
import type { MachineService } from '../../machines/machine-service.js';
import { checkApiVersion } from '../../resources/api-versions.js';
import { fullType, parseTarget, printable, targetId } from '../../resources/resource-id.js';
import { methodNotAllowed, type ArmCall, type ArmDeps } from './arm-context.js';

const MACHINE_TYPES = new Set(['virtualmachines', 'virtualmachinescalesets']);

/** Whether the path is one of the enrollment paths below a VM or a scale set. */
export function isMachinePath(lower: readonly string[]): boolean {
  return lower.length >= 9 && lower.length <= 11 && lower[4] === 'providers' && lower[5] === 'microsoft.compute' && MACHINE_TYPES.has(lower[6]!)
    && (lower[8] === 'generatejointoken' ? lower.length === 9 : lower[8] === 'machines' && (lower.length !== 11 || lower[10] === 'revoke'));
}

export async function machinePath(deps: ArmDeps & { machines?: MachineService }, call: ArmCall): Promise<unknown> {
  const { segments, lower } = call;
  const machines = deps.machines;
  if (!machines) throw new NotFoundError('KH_ARM_NO_SUCH_PATH', `No route for '${printable(call.request.url.split('?')[0]!)}'.`);
  const target = parseTarget(segments.slice(0, 8));
  if (target.kind !== 'resource') throw new NotFoundError('KH_ARM_NO_SUCH_PATH', 'No route.');
  const type = fullType(target);
  checkApiVersion(call.query['api-version'], deps.resources.types.require(type).apiVersions, target.types.join('/'), true);
  const id = targetId(target);
  const method = call.request.method;
  const write = lower[8] === 'generatejointoken' || segments.length === 11;
  if (write ? method !== 'POST' : method !== 'GET') methodNotAllowed(method);
  await deps.authorizer.require(call.principal.objectId, `${type}/${write ? 'write' : 'read'}`, id);
  const resource = await deps.resources.get(target);
  if (lower[8] === 'generatejointoken') {
    const body = (call.request.body ?? {}) as Record<string, unknown>;
    call.reply.header('cache-control', 'no-store');
    return machines.createJoinToken(call.actor, resource, { maxUses: body['maxUses'], expiresInSeconds: body['expiresInSeconds'] });
  }
  if (segments.length === 9) return { value: await machines.list(resource) };
  if (segments.length === 10) return machines.show(resource, segments[9]!);
  return machines.revoke(call.actor, resource, segments[9]!);
}
