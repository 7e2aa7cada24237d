// Which api-versions each part of the management plane answers. ARM refuses a request
// without one (MissingApiVersionParameter) or with one the resource type does not have
// (InvalidApiVersionParameter for ARM's own types, NoRegisteredProviderFound for a provider's),
// listing the supported versions. Accepted: those Azure CLI 2.45 sends, and the newer stable
// versions the Azure SDKs for JavaScript and Python default to.
import { InvalidInputError } from '../errors.js';

/** Microsoft.Resources: resource groups, resource listings, deployments' home. */
export const RESOURCES_API_VERSIONS = [
  '2015-11-01', '2016-02-01', '2016-06-01', '2016-07-01', '2016-09-01', '2017-05-10', '2018-02-01', '2018-05-01',
  '2019-03-01', '2019-05-01', '2019-05-10', '2019-07-01', '2019-08-01', '2019-10-01', '2020-06-01', '2020-08-01',
  '2020-10-01', '2021-01-01', '2021-04-01', '2022-09-01', '2023-07-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-03-01', '2025-04-01',
] as const;

/** GET /subscriptions, /subscriptions/{id}, /tenants: 2016-06-01 through 2022-12-01. */
export const SUBSCRIPTIONS_API_VERSIONS = ['2016-06-01', '2018-06-01', '2019-06-01', '2019-11-01', '2020-01-01', '2021-01-01', '2022-12-01'] as const;

/** Microsoft.Subscription/aliases (creating a subscription). */
export const SUBSCRIPTION_ALIAS_API_VERSIONS = ['2019-10-01-preview', '2020-09-01', '2021-10-01'] as const;

export const ROLE_ASSIGNMENTS_API_VERSIONS = [
  '2015-07-01', '2017-10-01-preview', '2018-01-01-preview', '2018-09-01-preview', '2020-03-01-preview', '2020-04-01-preview',
  '2020-08-01-preview', '2020-10-01-preview', '2021-04-01-preview', '2022-01-01-preview', '2022-04-01',
] as const;

export const ROLE_DEFINITIONS_API_VERSIONS = ['2015-07-01', '2018-01-01-preview', '2022-04-01', '2022-05-01-preview'] as const;
export const PERMISSIONS_API_VERSIONS = ['2015-07-01', '2018-01-01-preview', '2022-04-01', '2022-05-01-preview'] as const;
export const ELEVATE_ACCESS_API_VERSIONS = ['2015-07-01', '2016-07-01'] as const;
export const METADATA_API_VERSIONS = ['2015-01-01', '2018-01-01', '2019-05-01', '2020-06-01', '2022-09-01'] as const;

export function missingApiVersion(): InvalidInputError {
  return new InvalidInputError('KH_ARM_API_VERSION_MISSING', "The api-version query parameter (?api-version=) is required for all requests.");
}

/** The query's api-version if `supported` has it; ARM's refusal otherwise. */
export function checkApiVersion(given: unknown, supported: readonly string[], typeName: string, provider = false): string {
  if (given === undefined || given === '') throw missingApiVersion();
  if (typeof given !== 'string') throw new InvalidInputError('KH_ARM_API_VERSION_INVALID', 'The api-version query parameter must be given once.');
  if (supported.includes(given)) return given;
  const shown = given.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
  if (provider) {
    throw new InvalidInputError(
      'KH_ARM_NO_REGISTERED_PROVIDER',
      `No registered resource provider found for location 'global' and API version '${shown}' for type '${typeName}'. The supported api-versions are '${supported.join(', ')}'.`,
    );
  }
  throw new InvalidInputError('KH_ARM_API_VERSION_INVALID', `The api-version '${shown}' is invalid. The supported versions are '${supported.join(',')}'.`);
}
