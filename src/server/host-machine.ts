// The server's own machine (issue 11 item 1): on first start the host registers itself as a
// machine resource — resource group `keyhaven-host` in the default subscription, a
// virtualMachines resource named after the host, with a system-assigned identity — and joins
// it as any machine would (a key pair made here, only its public key given to the join), so
// the embedded agent serves that identity and the seed's `curl … -H Metadata:true` works right
// after `npm start`. The identity holds no role: an admin grants it access like any other, and
// until then every local process may get a token that opens nothing (as on an Azure VM).
// The credential is `{home}/agent/machine.json` (0600); a later start reuses it while the
// machine is still active, and joins anew when it was revoked or its resource deleted.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateMachineKey, MACHINE_FILE, publicJwk, readMachineState, writeMachineState, type MachineState } from '../cli/machine-credential.js';
import type { ResourceTarget } from '../resources/resource-id.js';
import type { ArmActor } from '../resources/resource-manager.js';
import type { Services } from './services.js';

export const HOST_RESOURCE_GROUP = 'keyhaven-host';
const SYSTEM: ArmActor = { id: 'system', name: 'Keyhaven', principalType: 'Application' };

/** A resource name from the host name: ARM's characters only. */
export function hostMachineName(name = hostname()): string {
  const cleaned = name.replace(/[^A-Za-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return cleaned === '' ? 'keyhaven-server' : cleaned;
}

export async function ensureHostMachine(services: Services, options: { stateDir: string; subscriptionId: string; caPem: string; logger: Logger }): Promise<MachineState> {
  if (existsSync(join(options.stateDir, MACHINE_FILE))) {
    const state = readMachineState(options.stateDir);
    if (await services.machines.status.isActive(state.machineId)) {
      // The server may have moved (another port, publicUrl, CA): the credential follows it.
      const server = services.core.config.publicUrl.replace(/\/+$/, '');
      const current: MachineState = { ...state, server, authority: server, tokenEndpoint: `${server}/${services.core.tenantId}/oauth2/v2.0/token`, caPem: options.caPem };
      if (JSON.stringify(current) !== JSON.stringify(state)) writeMachineState(options.stateDir, current);
      return current;
    }
    options.logger.warn({ face: 'agent', machine: state.machineId }, 'the host machine credential was revoked or its resource deleted: joining anew');
  }
  const { resources, machines, core } = services;
  const rg = { kind: 'resourceGroup', subscriptionId: options.subscriptionId, resourceGroup: HOST_RESOURCE_GROUP } as const;
  const name = hostMachineName();
  const vm: ResourceTarget & { kind: 'resource' } = { kind: 'resource', subscriptionId: options.subscriptionId, resourceGroup: HOST_RESOURCE_GROUP, namespace: 'Microsoft.Compute', types: ['virtualMachines'], names: [name] };
  if (!(await resources.exists(rg))) await resources.put(SYSTEM, rg, { location: 'local', tags: { 'keyhaven-role': 'server-host' } });
  let resource = (await resources.exists(vm)) ? await resources.get(vm) : undefined;
  if (!resource?.identity || !JSON.stringify(resource.identity).includes('SystemAssigned')) {
    resource = (await resources.put(SYSTEM, vm, { location: 'local', tags: { 'keyhaven-role': 'server-host' }, identity: { type: 'SystemAssigned' } })).resource;
  }
  const issued = await machines.createJoinToken(SYSTEM, resource, {});
  const { privateKey, alg } = generateMachineKey('EC');
  const { jwk } = await publicJwk(privateKey);
  const joined = await machines.join({ token: issued.token, publicKey: jwk }, { source: '127.0.0.1', correlationId: 'host-machine' });
  const state: MachineState = {
    version: 1, server: core.config.publicUrl.replace(/\/+$/, ''), authority: joined.authority, tenantId: core.tenantId,
    tokenEndpoint: joined.tokenEndpoint, machineId: joined.id, clientId: joined.clientId, kid: joined.kid, alg,
    resourceId: joined.resourceId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), caPem: options.caPem,
  };
  writeMachineState(options.stateDir, state);
  options.logger.info({ face: 'agent', machine: state.machineId, resourceId: state.resourceId }, 'the server host joined as a machine');
  return state;
}
