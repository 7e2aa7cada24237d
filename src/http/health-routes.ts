// /healthz: the process is up. /readyz: it can serve — start-up has finished (signing keys
// loaded, LDAP listening, the bootstrap admin exists; see src/server/readiness.ts), it is not
// shutting down, and storage answers.
import type { FastifyPluginAsync } from 'fastify';
import type { Readiness } from '../server/readiness.js';
import type { Storage } from '../storage/storage.js';

export const healthRoutes: FastifyPluginAsync<{ storage: Storage; readiness: Readiness }> = async (app, { storage, readiness }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!readiness.ready) return reply.status(503).send({ status: readiness.state, storage: storage.engine });
    try {
      await storage.ping();
      return { status: 'ready', storage: storage.engine };
    } catch {
      return reply.status(503).send({ status: 'unavailable', storage: storage.engine });
    }
  });
};
