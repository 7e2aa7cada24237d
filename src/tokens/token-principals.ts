// What the token service needs from the directory: checking a client's secret or certificate
// and a user's password. Implemented by DirectoryService; the grants see only this.
//
// `deferSuccessAudit`: the token endpoint writes one audit record per issuance holding both the
// sign-in and the issuance (DESIGN.md: a read's answer is released once its record is durable),
// so the directory records only refusals there; other callers (LDAP bind) keep their own record.
import type { SecretValue } from '../crypto/secret-value.js';
import type { SecondFactorSignIn } from '../directory/second-factor-sign-in.js';

export interface SignInContext {
  source: string;
  correlationId?: string | undefined;
  /** Leave the success record to the caller, who writes one record with both facts. */
  deferSuccessAudit?: boolean;
  /** Leave refusals to the caller (client authentication aggregates them per source). */
  deferRefusalAudit?: boolean;
}

export interface ClientPrincipal {
  /** The service principal's object id: a token's `oid` and `sub`. */
  objectId: string;
  appId: string;
  displayName: string;
  /** Which credential matched (a passwordCredential's or keyCredential's keyId). */
  credentialKeyId: string;
  /** A joined machine authenticated (src/machines/): its tokens carry it. */
  machine?: TokenMachine;
}

/** The machine a token is issued to: `kh_machine` and `xms_mirid` in the token. */
export interface TokenMachine {
  id: string;
  resourceId: string;
}

export interface UserPrincipal {
  objectId: string;
  userPrincipalName: string;
  username: string;
  displayName?: string;
  givenName?: string;
  surname?: string;
  mail?: string;
  /** A new password is due before any token (Graph forceChangePasswordNextSignIn). */
  mustChangePassword?: boolean;
}

/** Where a browser or device sign-in may send its answer (Graph application: web / publicClient / spa). */
export interface ClientRegistration {
  appId: string;
  displayName: string;
  /** The application's service principal is enabled (or it has none). */
  servicePrincipalEnabled: boolean;
  /** The application holds a client secret or certificate. */
  hasCredentials: boolean;
  web: string[];
  publicClient: string[];
  spa: string[];
  /** Graph's isFallbackPublicClient: device code and other public flows without a secret. */
  isFallbackPublicClient: boolean;
}

/** What decides whether a user's earlier sign-in still counts (refresh, SSO session). */
export interface UserSignInState {
  user: UserPrincipal;
  enabled: boolean;
  /** Epoch ms of the last password change or reset; earlier sign-ins are void. */
  passwordChangedAt?: number;
  /** Epoch ms set by revokeSignInSessions; earlier sign-ins are void. */
  sessionsValidFrom?: number;
}

/** A registered certificate (Graph keyCredential), public part only. */
export interface ClientCertificate {
  keyId: string;
  /** PEM or DER-decoded X.509 certificate. */
  certificate: import('node:crypto').X509Certificate;
  thumbprintSha1: string;
  thumbprintSha256: string;
  startDateTime: string;
  endDateTime: string;
}

export interface TokenPrincipals {
  authenticateClientSecret(appId: string, secret: SecretValue, ctx: SignInContext): Promise<ClientPrincipal>;
  authenticateUser(name: string, password: SecretValue, ctx: SignInContext): Promise<UserPrincipal>;
  /**
   * The service principal for `appId` and its application's certificates, for a client
   * assertion (RFC 7523); undefined when no enabled service principal has that appId.
   */
  clientCertificates(appId: string): Promise<{ principal: Omit<ClientPrincipal, 'credentialKeyId'>; enabled: boolean; certificates: ClientCertificate[] } | undefined>;
  /** An application registered in the directory (a public client's client_id), or undefined. */
  application(appId: string): Promise<{ appId: string; displayName: string } | undefined>;
  /**
   * Whether the user must present a second factor (by requirement on the user or a group they
   * are in, or because they enrolled one): grants that carry only a password refuse them.
   */
  secondFactorRequired(userObjectId: string): Promise<boolean>;
  /** The second factor as the sign-in pages use it (asking for a code, or enrolment within a sign-in). */
  secondFactor: Pick<SecondFactorSignIn, 'status' | 'verify' | 'beginTotp' | 'pendingTotp' | 'confirmTotp'>;
  /** An application's redirect URIs and public-client setting, by client id. */
  clientRegistration(appId: string): Promise<ClientRegistration | undefined>;
  /** The user's own password change, proving the current one under the login throttle. */
  changeOwnPassword(userId: string, currentPassword: string, newPassword: string, source: string): Promise<void>;
  /** A user's current state by object id; undefined when the user no longer exists. */
  userSignInState(objectId: string): Promise<UserSignInState | undefined>;
}
