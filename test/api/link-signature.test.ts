/** HMAC-SHA256 of signed links: checked against node:crypto, rotation, and what it refuses. */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createLinkSignature, isEqualInConstantTime } from '../../src/api/link-signature.ts'

const SECRET = 'current-link-secret-of-enough-length-0123'
const OLD_SECRET = 'previous-link-secret-of-enough-length-456'
const OTHER_SECRET = 'someone-elses-secret-of-enough-length-789'

describe('link signatures', () => {
  it('is HMAC-SHA256 of the payload under the secret, in unpadded base64url', async () => {
    const signature = await createLinkSignature({ secret: SECRET }).sign('payload')
    const expected = createHmac('sha256', SECRET).update('payload').digest('base64url')
    expect(signature).toBe(expected)
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('verifies its own signature and no other payload', async () => {
    const keys = createLinkSignature({ secret: SECRET })
    const signature = await keys.sign('a\nb')
    expect(await keys.verify('a\nb', signature)).toBe(true)
    expect(await keys.verify('a\nc', signature)).toBe(false)
  })

  it('verifies with the previous secret after a rotation, and never signs with it', async () => {
    const before = createLinkSignature({ secret: OLD_SECRET })
    const after = createLinkSignature({ secret: SECRET, previousSecret: OLD_SECRET })
    const old = await before.sign('payload')
    expect(await after.verify('payload', old)).toBe(true)
    expect(await after.sign('payload')).not.toBe(old)
    // Once the previous secret is dropped, its links stop working.
    expect(await createLinkSignature({ secret: SECRET }).verify('payload', old)).toBe(false)
  })

  it('refuses a signature made with an unknown key', async () => {
    const foreign = await createLinkSignature({ secret: OTHER_SECRET }).sign('payload')
    const keys = createLinkSignature({ secret: SECRET, previousSecret: OLD_SECRET })
    expect(await keys.verify('payload', foreign)).toBe(false)
  })

  it('refuses malformed, cut, padded and differently spelt signatures', async () => {
    const keys = createLinkSignature({ secret: SECRET })
    const signature = await keys.sign('payload')
    const bytes = Buffer.from(signature, 'base64url')
    const flipped = Buffer.from(bytes)
    flipped[10]! ^= 1
    for (const bad of [
      '',
      signature.slice(0, 42),
      `${signature}=`,
      `${signature}A`,
      flipped.toString('base64url'),
      bytes.toString('base64'),
      signature.replace(/.$/, '!'),
    ]) {
      expect(await keys.verify('payload', bad), bad).toBe(false)
    }
    // The last character carries 2 spare bits: another letter with the same 4 bits decodes to
    // the same bytes, and is refused all the same.
    const last = signature.at(-1)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!
    const respelt = signature.slice(0, -1) + twin
    expect(Buffer.from(respelt, 'base64url')).toEqual(bytes)
    expect(await keys.verify('payload', respelt)).toBe(false)
  })

  it('compares bytes of any content, and unequal lengths as different', () => {
    expect(isEqualInConstantTime(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true)
    expect(isEqualInConstantTime(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false)
    expect(isEqualInConstantTime(new Uint8Array([0, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(false)
    expect(isEqualInConstantTime(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false)
  })
})
