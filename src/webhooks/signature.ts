/**
 * Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed
 * with the base64-decoded part of a `whsec_` secret. Portable (Web Crypto).
 */

const encoder = new TextEncoder()

/** The key bytes of a `whsec_<base64>` secret. */
export function toSecretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const text = atob(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret)
  return Uint8Array.from(text, (c) => c.charCodeAt(0))
}

export function toBase64(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(text)
}

/** An HMAC-SHA256 key for signing only, made once per secret. */
export function importWebhookKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    toSecretBytes(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
}

/** The `webhook-signature` header value of one attempt. */
export async function signWebhook(
  key: CryptoKey,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const signed = await crypto.subtle.sign(
    'HMAC',
    key,
    encoder.encode(`${id}.${timestampSeconds}.${body}`),
  )
  return `v1,${toBase64(new Uint8Array(signed))}`
}
