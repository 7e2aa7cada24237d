// Request bodies of the directory API as JSON schemas (TypeBox), checked before a handler runs.
// The check is strict: no type coercion (Graph answers `"accountEnabled": "yes"` with 400, it
// does not read it as true), and a property the resource does not declare is refused as Graph
// refuses it ("Property 'x' does not exist as a declared property or extension property.")
// rather than dropped. OData annotations (`@odata.type`, …) may accompany any body. Values are
// only shape-checked here; their rules (name syntax, lengths, password policy) are the core's.
// Schema failures become Graph's 400 Request_BadRequest in Graph's wording.
import type { FastifySchemaCompiler } from 'fastify';
import Type, { type TSchema } from 'typebox';
import Compile from 'typebox/compile';
import { InvalidInputError } from '../../errors.js';

const ANNOTATIONS = { '^@odata\\.': {} };
/** Bounds that keep absurd input out before the core's own, tighter checks run. */
const Text = (maxLength = 4096) => Type.String({ maxLength });
const NullableText = (maxLength = 4096) => Type.Union([Type.String({ maxLength }), Type.Null()]);
const Guid = Type.String({ maxLength: 64 });

function entity<P extends Record<string, TSchema>>(title: string, properties: P, required: (keyof P & string)[] = []) {
  const optional = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, required.includes(k) ? v : Type.Optional(v)]));
  return Type.Object(optional as P, { title, additionalProperties: false, patternProperties: ANNOTATIONS });
}

const PosixUser = Type.Object(
  {
    uidNumber: Type.Optional(Type.Integer()),
    gidNumber: Type.Optional(Type.Integer()),
    // Write-only: sets gidNumber to that group's (object id or mailNickname).
    primaryGroup: Type.Optional(Text(256)),
    homeDirectory: Type.Optional(Text(1024)),
    loginShell: Type.Optional(Text(1024)),
    sshPublicKeys: Type.Optional(Type.Array(Text(16384), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
const ExtraAttributes = Type.Record(Type.String(), Type.Unknown());
const PasswordProfile = Type.Object(
  {
    password: Type.Optional(Text(4096)),
    // The browser and device sign-in pages ask for a new password first (the password grant refuses).
    forceChangePasswordNextSignIn: Type.Optional(Type.Boolean()),
    forceChangePasswordNextSignInWithMfa: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const userProperties = {
  accountEnabled: Type.Boolean(),
  displayName: Text(),
  mailNickname: Text(256),
  userPrincipalName: Text(1024),
  passwordProfile: PasswordProfile,
  givenName: NullableText(),
  surname: NullableText(),
  mail: NullableText(),
  onPremisesSamAccountName: Text(256),
  keyhavenPosix: PosixUser,
  keyhavenExtraAttributes: ExtraAttributes,
};

export const UserCreate = entity('User', userProperties, ['displayName', 'userPrincipalName']);
export const UserUpdate = entity('User', userProperties);

const groupProperties = {
  displayName: Text(),
  mailNickname: Text(256),
  description: NullableText(),
  securityEnabled: Type.Boolean(),
  mailEnabled: Type.Boolean(),
  groupTypes: Type.Array(Text(64), { maxItems: 8 }),
  keyhavenPosix: Type.Object({ gidNumber: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
  keyhavenExtraAttributes: ExtraAttributes,
};
export const GroupCreate = entity('Group', groupProperties, ['displayName', 'mailNickname']);
const { securityEnabled: _s, mailEnabled: _m, groupTypes: _g, ...groupUpdatable } = groupProperties;
export const GroupUpdate = entity('Group', groupUpdatable);

/** POST …/members/$ref: `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`. */
export const MemberReference = Type.Object({ '@odata.id': Text(2048) }, { title: 'DirectoryObject', additionalProperties: false });

// Graph's web / publicClient / spa application settings: where sign-ins may redirect.
const RedirectUris = Type.Object({ redirectUris: Type.Optional(Type.Array(Text(2048), { maxItems: 256 })) }, { additionalProperties: true });
const applicationSignIn = {
  web: RedirectUris,
  publicClient: RedirectUris,
  spa: RedirectUris,
  isFallbackPublicClient: Type.Union([Type.Boolean(), Type.Null()]),
};
export const ApplicationCreate = entity('Application', {
  displayName: Text(),
  // The only audience a Keyhaven tenant has.
  signInAudience: Type.Literal('AzureADMyOrg'),
  ...applicationSignIn,
}, ['displayName']);
export const ApplicationUpdate = entity('Application', { displayName: Text(), ...applicationSignIn });

const PasswordCredentialInput = Type.Object(
  {
    displayName: Type.Optional(NullableText(256)),
    startDateTime: Type.Optional(Text(64)),
    endDateTime: Type.Optional(Text(64)),
  },
  { additionalProperties: false },
);
/** addPassword: Graph takes an empty body too (a two-year secret without a name). */
export const AddPassword = Type.Union([
  Type.Null(),
  entity('PasswordCredential', { passwordCredential: Type.Union([PasswordCredentialInput, Type.Null()]) }),
], { title: 'PasswordCredential' });
export const RemoveCredential = entity('KeyCredential', { keyId: Guid, proof: Text(16384) }, ['keyId']);
export const AddKey = entity('KeyCredential', {
  keyCredential: Type.Object(
    {
      type: Type.Literal('AsymmetricX509Cert'),
      usage: Type.Literal('Verify'),
      // base64 DER, as Graph's Edm.Binary; PEM is accepted by the core too.
      key: Text(32768),
      displayName: Type.Optional(NullableText(256)),
      startDateTime: Type.Optional(Text(64)),
      endDateTime: Type.Optional(Text(64)),
      keyId: Type.Optional(Guid),
      customKeyIdentifier: Type.Optional(NullableText(256)),
    },
    { additionalProperties: false },
  ),
  // Graph's proof-of-possession JWT for apps that already hold a certificate; not checked here
  // because only a caller already allowed to write the application reaches this.
  proof: Text(16384),
  passwordCredential: Type.Null(),
}, ['keyCredential']);

const servicePrincipalProperties = {
  appId: Guid,
  displayName: Text(),
  accountEnabled: Type.Boolean(),
  servicePrincipalType: Type.Union([Type.Literal('Application'), Type.Literal('ManagedIdentity')]),
};
export const ServicePrincipalCreate = entity('ServicePrincipal', servicePrincipalProperties);
export const ServicePrincipalUpdate = entity('ServicePrincipal', { displayName: Text(), accountEnabled: Type.Boolean() });

export const RoleAssignmentCreate = entity('UnifiedRoleAssignment', {
  roleDefinitionId: Guid,
  principalId: Guid,
  directoryScopeId: Text(128),
}, ['roleDefinitionId', 'principalId']);

export const ChangePassword = entity('User', { currentPassword: Text(), newPassword: Text() }, ['currentPassword', 'newPassword']);

/** Enrolment of a software OATH method takes no properties (the server makes the secret). */
export const NewSoftwareOathMethod = entity('SoftwareOathAuthenticationMethod', {});
/** Graph's hardwareOath `activate` action body, reused for confirming a software method. */
export const ActivateOathMethod = entity('SoftwareOathAuthenticationMethod', { verificationCode: Text(64) }, ['verificationCode']);
/** Graph beta's strongAuthenticationRequirements. */
export const MfaRequirement = entity('StrongAuthenticationRequirements', { perUserMfaState: Text(32) }, ['perUserMfaState']);

/** checkMemberGroups: at most 20 ids, as Graph. */
export const CheckMemberGroups = entity('DirectoryObject', { groupIds: Type.Array(Guid, { maxItems: 20 }) }, ['groupIds']);

/**
 * The body without its OData annotations (`@odata.type`, …): they describe the payload, they
 * are no properties to set, and the core refuses properties it does not know.
 */
export function withoutAnnotations<T extends object>(body: T): T {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !key.startsWith('@odata.'))) as T;
}

// ---------------------------------------------------------------------------------------------

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: { additionalProperties?: string[]; requiredProperties?: string[] };
}

function propertyPath(instancePath: string, name?: string): string {
  const path = [...instancePath.split('/').filter((s) => s !== '' && !/^\d+$/.test(s)), ...(name === undefined ? [] : [name])]
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('/');
  return path.slice(0, 128).replace(/[^\x20-\x7e]/g, '?');
}

/** The one error Graph would name first: a missing body, an undeclared property, a missing one, then a bad value. */
export function bodyError(errors: readonly SchemaError[], data: unknown, resource: string): InvalidInputError {
  const invalid = (message: string) => new InvalidInputError('KH_GRAPH_BODY_INVALID', message);
  if (data === null || data === undefined) return invalid('Empty Payload. JSON content expected.');
  if (typeof data !== 'object' || Array.isArray(data)) return invalid('The request body must be a JSON object.');
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) {
    const name = propertyPath(extra.instancePath, extra.params.additionalProperties?.[0]);
    return invalid(`Property '${name}' does not exist as a declared property or extension property.`);
  }
  const missing = errors.find((e) => e.keyword === 'required');
  if (missing) {
    const name = propertyPath(missing.instancePath, missing.params.requiredProperties?.[0]);
    return invalid(`A value is required for property '${name}' of resource '${resource}'.`);
  }
  const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  return invalid(`Invalid value specified for property '${first ? propertyPath(first.instancePath) : ''}' of resource '${resource}'.`);
}

/** Fastify validator compiler for this plugin's body schemas (set in graph-routes.ts). */
export const graphValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema }) => {
  const validator = Compile(schema);
  const resource = (schema as { title?: string }).title ?? 'Entity';
  return (data: unknown) => {
    if (validator.Check(data)) return { value: data };
    return { error: bodyError(validator.Errors(data) as unknown as SchemaError[], data, resource) };
  };
};
