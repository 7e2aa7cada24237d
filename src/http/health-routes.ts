// /healthz: the process is up. /readyz: it can serve — start-up has finished (signing keys
// loaded, LDAP listening, the bootstrap admin exists; see src/server/readiness.ts), it is not
// shutting down, and storage answers.
import type { FastifyPluginAsync } from 'fastify';
import type { Readiness } from '../server/readiness.js';

// The face asks the readiness service, which holds the store probe: no storage here.
export const healthRoutes: FastifyPluginAsync<{ readiness: Readiness }> = async (app, { readiness }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await readiness.check();
    const body = { status: report.status, storage: report.storage };
    return report.ready ? body : reply.status(503).send(body);
  });
};
