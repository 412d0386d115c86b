/** Credential keys: the hash of the credentials' text, remembered per exact header values, bounded. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createCredentialKeys, toCredentialText } from '../../src/identity/credential-keys.ts'
import type { Credentials } from '../../src/domain/caller.ts'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

function countingHash() {
  const hashed: string[] = []
  const hashText = (text: string) => {
    hashed.push(text)
    return sha256(text)
  }
  return { hashed, hashText }
}

describe('createCredentialKeys', () => {
  it('hashes both headers once and answers the same key after', () => {
    const { hashed, hashText } = countingHash()
    const keyOf = createCredentialKeys(hashText)
    const both = { authorization: 'Basic a', cookie: 'JSESSIONID=1' }
    expect(keyOf({ authorization: 'Basic a' })).toBe(sha256('Basic a\n'))
    expect(keyOf({ authorization: 'Basic a' })).toBe(sha256('Basic a\n'))
    expect(keyOf(both)).toBe(sha256('Basic a\nJSESSIONID=1'))
    expect(keyOf({ ...both })).toBe(sha256('Basic a\nJSESSIONID=1'))
    expect(keyOf({ cookie: 'JSESSIONID=1' })).toBe(sha256('\nJSESSIONID=1'))
    expect(hashed).toEqual(['Basic a\n', 'Basic a\nJSESSIONID=1', '\nJSESSIONID=1'])
  })

  it('gives changed credentials their own key, never a neighbour’s', () => {
    const keyOf = createCredentialKeys(sha256)
    const all: Credentials[] = [
      { authorization: 'Basic a' },
      { authorization: 'Basic a ' },
      { authorization: 'basic a' },
      { authorization: 'Basic a', cookie: 'JSESSIONID=1' },
      { authorization: 'Basic a', cookie: 'JSESSIONID=2' },
      { cookie: 'Basic a' },
      { authorization: 'Basic a\nJSESSIONID=1' },
    ]
    for (const credentials of [...all, ...all]) {
      expect(keyOf(credentials)).toBe(sha256(toCredentialText(credentials)))
    }
  })

  it('keeps at most 256 credentials of each kind, forgetting the oldest first', () => {
    const { hashed, hashText } = countingHash()
    const keyOf = createCredentialKeys(hashText)
    for (let i = 0; i < 257; i++) keyOf({ authorization: `Basic user${i}` })
    hashed.length = 0
    // user0 was forgotten to make room for user256; user1 … user256 are still known.
    for (let i = 1; i < 257; i++) {
      expect(keyOf({ authorization: `Basic user${i}` })).toBe(sha256(`Basic user${i}\n`))
    }
    expect(hashed).toEqual([])
    expect(keyOf({ authorization: 'Basic user0' })).toBe(sha256('Basic user0\n'))
    expect(hashed).toEqual(['Basic user0\n'])
  })

  it('never keeps credentials over 4096 characters, and hashes them every time', () => {
    const { hashed, hashText } = countingHash()
    const keyOf = createCredentialKeys(hashText)
    const long = { authorization: `Bearer ${'x'.repeat(4096)}` }
    const longCookie = { authorization: 'Basic a', cookie: 'x'.repeat(4096) }
    for (const credentials of [long, long, longCookie, longCookie]) {
      expect(keyOf(credentials)).toBe(sha256(toCredentialText(credentials)))
    }
    expect(hashed).toHaveLength(4)
  })
})
