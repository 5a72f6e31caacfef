/** UTF-8 → base64, the encoding of a Secret's `data` values. */
export function encodeBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** base64 → UTF-8, for reading a Secret's `data` back. */
export function decodeBase64(encoded: string): string {
  return Buffer.from(encoded, 'base64').toString('utf8');
}
