// `metricsPort`: GET /metrics in Prometheus' text format on 127.0.0.1 only, without a token — for
// a Prometheus (or node_exporter-style agent) on the same machine. Loopback is the boundary, as
// for the metadata agent; anywhere else, scrape the HTTPS port's /metrics with a token.
import { createServer, type Server } from 'node:http';
import type { Metrics } from '../metrics/metrics.js';

export async function startMetricsListener(metrics: Metrics, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
