// Errors of the metadata endpoint as Azure's Instance Metadata Service gives them: a status and a
// JSON body `{"error", "error_description"}` (the identity endpoint), which the Azure SDKs read.
// The status is chosen for how the SDKs act on it: MSAL Node and Python's azure-identity retry
// 404, 408, 410, 429 and 5xx (for up to a minute), and give up at once on 400 — so an identity
// that is not assigned is 400 "Identity not found", exactly as IMDS answers it, and a
// ManagedIdentityCredential asking for one fails in seconds, not after a minute of retries.
export class ImdsError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
    this.name = 'ImdsError';
  }

  get body(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export const IMDS_ERRORS = {
  /** IMDS: every request must carry `Metadata: true` (the SSRF guard). */
  metadataHeader: () => new ImdsError(400, 'invalid_request', 'Required metadata header not specified'),
  /** IMDS refuses requests that came through a proxy. */
  forwarded: () => new ImdsError(400, 'invalid_request', 'Requests with the header X-Forwarded-For are not accepted: the metadata endpoint is not to be reached through a proxy.'),
  resource: () => new ImdsError(400, 'invalid_request', "Required query variable 'resource' is missing"),
  badResource: () => new ImdsError(400, 'invalid_resource', "The query variable 'resource' is not a valid resource URI."),
  apiVersion: () => new ImdsError(400, 'invalid_request', "Required query variable 'api-version' is missing or is not a supported version"),
  identityParameter: (name: string) => new ImdsError(400, 'invalid_request', `The query variable '${name}' is not valid.`),
  severalSelectors: () => new ImdsError(400, 'invalid_request', 'Only one of client_id, object_id and msi_res_id may be given.'),
  /** What IMDS answers for an identity that is not assigned (or none at all). */
  identityNotFound: () => new ImdsError(400, 'invalid_request', 'Identity not found'),
  /** The job endpoint's header secret is missing or wrong. */
  secret: () => new ImdsError(401, 'unauthorized_client', 'The identity header secret is missing or not valid for this endpoint.'),
  throttled: (retryAfterSeconds: number) => new ImdsError(429, 'too_many_requests', 'Too many requests: retry after the time in Retry-After.', retryAfterSeconds),
  notFound: () => new ImdsError(404, 'not_found', 'No such metadata path.'),
  method: () => new ImdsError(405, 'method_not_allowed', 'This metadata path does not take that method.'),
  /** The Keyhaven server could not be reached and no unexpired token is cached: clients retry 5xx. */
  unavailable: () => new ImdsError(503, 'temporarily_unavailable', 'The identity service could not be reached; retry later.'),
  /**
   * The server refused this machine (revoked, its credential no longer valid): 403, which no SDK
   * retries — a revoked machine gets an error at once, not a minute of retries.
   */
  refused: (description: string) => new ImdsError(403, 'access_denied', description),
} as const;
