// The machine side of enrollment, unauthenticated by a bearer token (src/machines/):
//   POST /machines/join        {token, publicKey}  → the machine record and where to get tokens
//   POST /machines/rotate-key  {request: JWS}      → the machine record with its new kid
// The join token (or, for a rotation, a JWS signed with the machine's current key) is the
// credential. Bodies are JSON, at most 16 KiB; errors in ARM's shape, as the management plane's.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { MachineService } from '../../machines/machine-service.js';
import { armErrorHandler } from '../arm/arm-errors.js';

export interface MachineRoutesOptions {
  machines: MachineService;
  publicUrl: string;
  tenantId: string;
}

const BODY_LIMIT = 16 * 1024;

export const machineRoutes: FastifyPluginAsync<MachineRoutesOptions> = async (app: FastifyInstance, options) => {
  app.setErrorHandler(armErrorHandler({ publicUrl: options.publicUrl, tenantId: options.tenantId }));
  app.removeContentTypeParser('text/plain');
  const context = (request: { ip: string; id: string }) => ({ source: request.ip, correlationId: request.id });
  app.post('/machines/join', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const machine = await options.machines.join(request.body, context(request));
    return reply.status(201).header('cache-control', 'no-store').send(machine);
  });
  app.post('/machines/rotate-key', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    return reply.header('cache-control', 'no-store').send(await options.machines.rotateKey(request.body, context(request)));
  });
};
