// TOTP codes from Debian's oathtool (liboath), an implementation independent of Keyhaven's and
// of the otpauth library it uses: what a user's authenticator app would show at that moment.
import { execFileSync } from 'node:child_process';

/** `oathtool --totp -b SECRET --now @epoch`: the 6-digit code for the 30-second step holding `atMs`. */
export function oathtoolCode(base32Secret: string, atMs: number = Date.now()): string {
  const out = execFileSync('/usr/bin/oathtool', ['--totp', '-b', base32Secret, '--now', `@${Math.floor(atMs / 1000)}`], { encoding: 'utf8', timeout: 10_000 });
  const code = out.trim();
  if (!/^\d{6}$/.test(code)) throw new Error(`oathtool printed ${JSON.stringify(out)}`);
  return code;
}

/** The secret of an `otpauth://` URI (as an authenticator app reads it from the QR code). */
export function secretOfUri(uri: string): string {
  const secret = new URL(uri).searchParams.get('secret');
  if (!secret) throw new Error('no secret in the otpauth URI');
  return secret;
}
