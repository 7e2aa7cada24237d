// GET /metadata/endpoints: what ARM answers about its cloud, so `az cloud register
// --endpoint-resource-manager {publicUrl}` configures everything from one flag, as Azure Stack
// admins do. az asks api-version 2015-01-01 and reads authentication.loginEndpoint (the ADFS
// authority `{publicUrl}/adfs`), authentication.audiences[0] (the management audience),
// galleryEndpoint and graphEndpoint. Newer api-versions (2019-05-01 and later) answer the
// list of clouds Azure's own endpoint serves. Anonymous, as on Azure.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { METADATA_API_VERSIONS, checkApiVersion } from '../../resources/api-versions.js';
import { armErrorHandler } from './arm-errors.js';

export interface MetadataRoutesOptions {
  publicUrl: string;
  tenantId: string;
  /** The management audiences, canonical first. */
  managementAudiences: readonly string[];
  graphAudience: string;
  vaultDnsSuffix: string;
}

export const metadataRoutes: FastifyPluginAsync<MetadataRoutesOptions> = async (app: FastifyInstance, o) => {
  app.setErrorHandler(armErrorHandler({ publicUrl: o.publicUrl, tenantId: o.tenantId }));
  app.get('/metadata/endpoints', async (request) => {
    const version = checkApiVersion((request.query as Record<string, unknown>)['api-version'], METADATA_API_VERSIONS, 'metadata');
    const login = `${o.publicUrl}/adfs`;
    if (version === '2015-01-01' || version === '2018-01-01') {
      return {
        galleryEndpoint: `${o.publicUrl}/`,
        graphEndpoint: o.graphAudience,
        portalEndpoint: `${o.publicUrl}/`,
        authentication: { loginEndpoint: login, audiences: [...o.managementAudiences] },
        suffixes: { keyVaultDns: `.${o.vaultDnsSuffix}` },
      };
    }
    return [
      {
        name: 'Keyhaven',
        portal: `${o.publicUrl}/`,
        resourceManager: `${o.publicUrl}/`,
        gallery: `${o.publicUrl}/`,
        graph: o.graphAudience,
        microsoftGraphResourceId: o.graphAudience,
        authentication: { loginEndpoint: login, audiences: [...o.managementAudiences], tenant: 'adfs', identityProvider: 'ADFS' },
        suffixes: { keyVaultDns: `.${o.vaultDnsSuffix}` },
      },
    ];
  });
};
