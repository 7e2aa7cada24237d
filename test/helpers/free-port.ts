// A TCP port on 127.0.0.1 that was free a moment ago, for a server a test must start on a known
// port (a restart on the same URL, the agent's port). Another process could take it in between;
// on a test machine's loopback that does not happen in practice.
import { createServer, type AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}
