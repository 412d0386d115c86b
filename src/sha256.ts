/**
 * SHA-256 as lower-case hex, for cache keys and request fingerprints. Portable.
 */

/** An incremental digest; Node passes node:crypto, Workers `crypto.DigestStream`. */
export interface IncrementalHash {
  update(chunk: Uint8Array): void
  /** Lower-case hex of the digest of everything passed to `update`. */
  digest(): Promise<string>
}

export function toHex(bytes: Uint8Array): string {
  let hex = ''
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/**
 * With the runtime's hasher when given: on Node it hashes in place, where Web Crypto's digest goes
 * through the thread pool and was the largest cost of a status poll.
 */
export async function sha256Hex(text: string, createHash?: () => IncrementalHash): Promise<string> {
  const bytes = new TextEncoder().encode(text)
  if (createHash) {
    const hash = createHash()
    hash.update(bytes)
    return hash.digest()
  }
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
}
