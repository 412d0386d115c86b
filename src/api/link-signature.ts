/**
 * HMAC-SHA256 signatures of signed links with Web Crypto: the current secret signs, the current
 * and the previous one (a rotation) verify, compared in constant time. Portable.
 */

export interface LinkKeys {
  /** Signs and verifies. */
  secret: string
  /** Verifies only: the secret before the last rotation. */
  previousSecret?: string
}

export interface LinkSignature {
  /** base64url, unpadded: 43 characters. */
  sign(payload: string): Promise<string>
  /** Whether `signature` is the payload's, under the current or the previous secret. */
  verify(payload: string, signature: string): Promise<boolean>
}

/** 32 bytes of HMAC-SHA256 in unpadded base64url. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/

export function createLinkSignature(keys: LinkKeys): LinkSignature {
  const signing = importKey(keys.secret)
  const verifying = [signing, ...(keys.previousSecret ? [importKey(keys.previousSecret)] : [])]
  const encoder = new TextEncoder()

  const hmac = async (key: Promise<CryptoKey>, payload: string) =>
    new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(payload)))

  return {
    async sign(payload) {
      return toBase64Url(await hmac(signing, payload))
    },
    async verify(payload, signature) {
      if (!SIGNATURE_PATTERN.test(signature)) return false
      const given = fromBase64Url(signature)
      // The last character holds 2 spare bits: only the one spelling of a signature is taken.
      if (toBase64Url(given) !== signature) return false
      // Every key is tried, so the time taken does not tell which one matched.
      const matches = await Promise.all(
        verifying.map(async (key) => isEqualInConstantTime(await hmac(key, payload), given)),
      )
      return matches.includes(true)
    },
  }
}

function importKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
}

/** Looks at every byte whatever differs, so the time taken says nothing about where. */
export function isEqualInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!
  return difference === 0
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Only for text that matched SIGNATURE_PATTERN (or other unpadded base64url). */
function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(binary, (char) => char.charCodeAt(0))
}
