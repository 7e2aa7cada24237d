// /healthz: the process is up. /readyz: it can serve, i.e. storage answers.
import type { FastifyPluginAsync } from 'fastify';
import type { Storage } from '../storage/storage.js';

export const healthRoutes: FastifyPluginAsync<{ storage: Storage }> = async (app, { storage }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await storage.ping();
      return { status: 'ready', storage: storage.engine };
    } catch {
      return reply.status(503).send({ status: 'unavailable', storage: storage.engine });
    }
  });
};
