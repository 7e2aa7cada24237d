// The directory as the token service sees it (token-principals.ts), over DirectoryService.
import type { DirectoryService } from '../directory/directory-service.js';
import { PUBLIC_CLIENTS } from './client-authentication.js';
import type { ClientRegistration, TokenPrincipals } from './token-principals.js';

/**
 * The Azure CLI's and Azure PowerShell's applications, as Entra registers them in every tenant:
 * public clients whose browser sign-in returns to a loopback listener on any port
 * (`http://localhost`, RFC 8252 §7.3) and which may use the device code flow. `az login` and
 * `keyhaven login` sign users in through them; a registration of the same appId in the
 * directory takes precedence.
 */
function wellKnownRegistration(appId: string): ClientRegistration | undefined {
  const id = typeof appId === 'string' ? appId.trim().toLowerCase() : '';
  const displayName = PUBLIC_CLIENTS.get(id);
  if (displayName === undefined) return undefined;
  return {
    appId: id, displayName, servicePrincipalEnabled: true, hasCredentials: false,
    web: [], publicClient: ['http://localhost', 'http://127.0.0.1'], spa: [], isFallbackPublicClient: true,
  };
}

export function directoryPrincipals(directory: DirectoryService): TokenPrincipals {
  return {
    authenticateClientSecret: (appId, secret, ctx) =>
      directory.authenticateClientSecret(appId, secret, ctx.source, ctx.correlationId, { deferSuccessAudit: ctx.deferSuccessAudit ?? false, deferRefusalAudit: ctx.deferRefusalAudit ?? false }),
    authenticateUser: (name, password, ctx) =>
      directory.authenticateUser(name, password, ctx.source, ctx.correlationId, { deferSuccessAudit: ctx.deferSuccessAudit ?? false }),
    async clientCertificates(appId) {
      const client = await directory.clientApplication(appId);
      if (!client?.servicePrincipal) return undefined;
      const sp = client.servicePrincipal;
      return { principal: { objectId: sp.objectId, appId: client.appId, displayName: sp.displayName }, enabled: sp.enabled, certificates: client.certificates };
    },
    secondFactorRequired: (userObjectId) => directory.secondFactor.requiredFor(userObjectId),
    get secondFactor() {
      return directory.secondFactor;
    },
    async application(appId) {
      const client = await directory.clientApplication(appId);
      return client ? { appId: client.appId, displayName: client.displayName } : undefined;
    },
    clientRegistration: async (appId) => (await directory.clientRegistration(appId)) ?? wellKnownRegistration(appId),
    userSignInState: (objectId) => directory.userSignInState(objectId),
    changeOwnPassword: (userId, current, next, source) => directory.changeOwnPassword(userId, current, next, source),
  };
}
