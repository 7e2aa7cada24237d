// /metadata/instance's compute section for an enrolled machine, from its credential: the
// names ARM gives its resource (subscription, group, VM or scale set), the machine id as vmId.
import type { MachineState } from '../cli/machine-credential.js';
import type { InstanceCompute } from './agent-app.js';

/** /metadata/instance's compute section, from the machine credential's resource id. */
export function instanceOf(state: MachineState): InstanceCompute {
  const parts = state.resourceId.split('/');
  const at = (name: string) => {
    const i = parts.findIndex((p) => p.toLowerCase() === name);
    return i >= 0 ? parts[i + 1] ?? '' : '';
  };
  const scaleSet = state.resourceId.toLowerCase().includes('/virtualmachinescalesets/');
  const name = scaleSet ? at('virtualmachinescalesets') : at('virtualmachines');
  return {
    name: scaleSet ? `${name}_${state.machineId.slice(0, 8)}` : name, vmId: state.machineId, resourceId: state.resourceId,
    resourceGroupName: at('resourcegroups'), subscriptionId: at('subscriptions'), vmScaleSetName: scaleSet ? name : '',
    location: 'local', tags: '', osType: process.platform === 'win32' ? 'Windows' : 'Linux', azEnvironment: 'Keyhaven',
  };
}
