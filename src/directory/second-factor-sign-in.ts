// The interface sign-in flows call for the second factor (`directory.secondFactor`): the
// browser sign-in page, the device-code page, and anything else that signs a user in with a
// password and can ask for more. Implemented by SecondFactor (second-factor.ts).
//
// A sign-in that has checked the password (directory.authenticateUser, deferSuccessAudit):
//
//   const status = await directory.secondFactor.status(user.objectId);
//   if (status.required && status.enrolled) {
//     // ask for the code, then:
//     const factor = await directory.secondFactor.verify(user.objectId, code, Date.now(), { source, correlationId });
//     amr = signInAmr(factor);                        // ['pwd', 'otp', 'mfa'] (src/tokens/token-claims.ts)
//   } else if (status.required) {
//     // proof-up (Entra's "More information required"): enrol now, within this sign-in —
//     const enrolment = await directory.secondFactor.beginTotp({ id: user.objectId, source, correlationId },
//       { id: user.objectId, userPrincipalName: user.userPrincipalName });
//     // show enrolment.otpauthUri.reveal() as a QR code (qrCodeSvg, totp-qr-code.ts) and
//     // enrolment.secret.reveal() as text; then with the first code:
//     await directory.secondFactor.confirmTotp({ id: user.objectId, source, correlationId }, user.objectId, enrolment.methodId, code);
//     amr = signInAmr({ method: 'totp', amr: ['otp', 'mfa'] });
//   } else {
//     amr = signInAmr();                              // ['pwd']
//   }
//
// verify throws UnauthenticatedError KH_MFA_CODE_INVALID (wrong code, or no active factor),
// KH_MFA_CODE_REUSED (that step's code was accepted before: wait for the next), or
// ThrottledError KH_ACCOUNT_LOCKED / KH_SOURCE_THROTTLED (retryAfterSeconds set); each refusal
// is audited (`user.mfa.verify`, denied). A success is not audited here: the token issuance
// record carries `amr`. A session cookie should remember that the second factor was used
// (amr), so single sign-on into a second application can issue `mfa` without asking again.
import type { Actor } from './directory-context.js';
import type { SecondFactorResult, SecondFactorStatus, SoftwareOathMethod, TotpEnrollment, VerifyContext } from './second-factor.js';

export interface SecondFactorSignIn {
  /** Whether the user must present a second factor (the password grant refuses such users, AADSTS50076). */
  requiredFor(userId: string): Promise<boolean>;
  /** required, why (`user`, `group`, `enrolled`), and whether an active factor exists to ask for. */
  status(userId: string): Promise<SecondFactorStatus>;
  /** A code from the user's authenticator at `nowMs` (±1 step, each step once, throttled). */
  verify(userId: string, code: string, nowMs: number, ctx: VerifyContext): Promise<SecondFactorResult>;
  /** Begins enrolment (a pending method; throws KH_MFA_ALREADY_ENROLLED if one is active). */
  beginTotp(actor: Actor, user: { id: string; userPrincipalName: string }): Promise<TotpEnrollment>;
  /** A pending enrolment shown again within the sign-in that began it (undefined once gone or expired). */
  pendingTotp(user: { id: string; userPrincipalName: string }, methodId: string, nowMs?: number): Promise<TotpEnrollment | undefined>;
  /** Activates a pending method with its first code. */
  confirmTotp(actor: Actor, userId: string, methodId: string, code: string, nowMs?: number): Promise<SoftwareOathMethod>;
}
