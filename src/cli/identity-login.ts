// `keyhaven login --identity` (as `az login --identity`): the machine's managed identity through
// the local metadata agent (issue 11), no secret anywhere. The agent is at
// $AZURE_POD_IDENTITY_AUTHORITY_HOST when set (what the Azure SDKs read), else
// http://127.0.0.1:50342; a user-assigned identity is picked by client id, object id or
// resource id, as IMDS takes them. Every token a later command needs is asked of the agent
// (which caches it), so nothing but the agent's address is kept.
import type { CliContext } from './context.js';
import type { CachedToken } from './login-state.js';

export interface IdentitySelection {
  /** The agent's base URL. */
  agent: string;
  clientId?: string;
  objectId?: string;
  resourceId?: string;
}

export function agentUrl(env: NodeJS.ProcessEnv): string {
  return (env.AZURE_POD_IDENTITY_AUTHORITY_HOST || 'http://127.0.0.1:50342').replace(/\/+$/, '');
}

async function agentGet(ctx: CliContext, url: string): Promise<Record<string, unknown>> {
  ctx.debug(`GET ${url}`);
  let res: Response;
  try {
    res = await fetch(url, { headers: { Metadata: 'true' }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(`no metadata agent answers at ${new URL(url).origin} (${(err as Error).message}): run 'keyhaven agent run' on this machine, or set AZURE_POD_IDENTITY_AUTHORITY_HOST`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`the metadata agent answered ${res.status}: ${String(body['error_description'] ?? body['error'] ?? '')}`);
  return body;
}

/** The server the agent's machine belongs to. */
export async function agentServer(ctx: CliContext, agent: string): Promise<string> {
  const status = await agentGet(ctx, `${agent}/keyhaven/status`);
  if (typeof status['server'] !== 'string') throw new Error(`the metadata agent at ${agent} names no server`);
  return status['server'];
}

/** A token for `resource` from the agent, for the selected identity. */
export async function identityToken(ctx: CliContext, identity: IdentitySelection, resource: string): Promise<CachedToken> {
  const q = new URLSearchParams({ 'api-version': '2018-02-01', resource });
  if (identity.clientId !== undefined) q.set('client_id', identity.clientId);
  if (identity.objectId !== undefined) q.set('object_id', identity.objectId);
  if (identity.resourceId !== undefined) q.set('msi_res_id', identity.resourceId);
  const body = await agentGet(ctx, `${identity.agent}/metadata/identity/oauth2/token?${q}`);
  const expiresOn = Number(body['expires_on']);
  if (typeof body['access_token'] !== 'string' || !Number.isFinite(expiresOn)) throw new Error('the metadata agent answered without a token');
  return { resource, accessToken: body['access_token'], expiresOn };
}
