// The HTTP face's default error rendering: KeyhavenError → status + ARM-shaped JSON
// `{"error":{"code","message"}}` (Azure REST API guidelines, error response). Faces with
// their own wire format (OAuth, Key Vault, IMDS, Graph) register their own handler in their
// plugin scope. Mapping is by class, never by message text.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InternalError, InvalidInputError, KeyhavenError, ThrottledError, UnavailableError } from '../errors.js';

/** Turns anything thrown in a route into a KeyhavenError. */
export function toKeyhavenError(err: unknown): KeyhavenError {
  if (err instanceof KeyhavenError) return err;
  const fe = err as Partial<FastifyError>;
  // Fastify's own client errors (bad JSON, wrong content type, body too large) carry a 4xx statusCode.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 && typeof fe.code === 'string') {
    if (fe.statusCode === 429) return new ThrottledError('KH_TOO_MANY_REQUESTS', 'too many requests');
    const error = new InvalidInputError(`KH_HTTP_${fe.code.replace(/^FST_ERR_/, '')}`, fe.message ?? 'bad request');
    (error as { status: number }).status = fe.statusCode;
    return error;
  }
  if (fe.validation) return new InvalidInputError('KH_HTTP_VALIDATION', fe.message ?? 'invalid request');
  return new InternalError('KH_INTERNAL', 'internal error', { cause: err });
}

export function logIfServerError(request: FastifyRequest, err: KeyhavenError, original: unknown): void {
  if (err.status >= 500) request.log.error({ err: original, code: err.code }, 'request failed');
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const error = toKeyhavenError(err);
  logIfServerError(request, error, err);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  else if (error instanceof UnavailableError || error instanceof ThrottledError) reply.header('retry-after', '1');
  void reply.status(error.status).send({
    error: { code: error.code, message: error.expose ? error.message : `internal error (request ${request.id})` },
  });
}
