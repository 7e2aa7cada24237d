// The directory as the token service sees it (token-principals.ts), over DirectoryService.
import type { DirectoryService } from '../directory/directory-service.js';
import type { TokenPrincipals } from './token-principals.js';

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
    clientRegistration: (appId) => directory.clientRegistration(appId),
    userSignInState: (objectId) => directory.userSignInState(objectId),
    changeOwnPassword: (userId, current, next, source) => directory.changeOwnPassword(userId, current, next, source),
  };
}
