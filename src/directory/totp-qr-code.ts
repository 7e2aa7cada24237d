// The QR code of an `otpauth://` URI, which authenticator apps scan at enrolment: as SVG (the
// sign-in page's enrolment step, `keyhaven ad user mfa enroll --qr-file`) and as text for a
// terminal. Error correction M (15%) survives a phone camera at an angle and keeps a 32-character
// secret's URI at version 6 or so, small enough for an 80-column terminal.
import { renderSVG, renderUnicodeCompact } from 'uqr';

export function qrCodeSvg(uri: string): string {
  return renderSVG(uri, { ecc: 'M', border: 4, pixelSize: 8 });
}

/** Two rows of modules per line (half blocks), dark on light, with the quiet zone scanners need. */
export function qrCodeTerminal(uri: string): string {
  return renderUnicodeCompact(uri, { ecc: 'M', border: 2 });
}
