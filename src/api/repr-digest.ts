/**
 * The `Repr-Digest` header of a stored result (RFC 9530): `sha-256=:<base64>:`, from the
 * lower-case hex SHA-256 the runner took of the bytes on their way into the store. Portable.
 */
export function toReprDigest(sha256Hex: string): string {
  let binary = ''
  for (let i = 0; i < sha256Hex.length; i += 2) {
    binary += String.fromCharCode(Number.parseInt(sha256Hex.slice(i, i + 2), 16))
  }
  return `sha-256=:${btoa(binary)}:`
}
