/** Credential keys: the hash of a text, remembered per exact text, for a bounded number of texts. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createCredentialKeys } from '../../src/identity/credential-keys.ts'

function countingHash() {
  const hashed: string[] = []
  const hashText = (text: string) => {
    hashed.push(text)
    return createHash('sha256').update(text).digest('hex')
  }
  return { hashed, hashText }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

describe('createCredentialKeys', () => {
  it('hashes a text once and answers the same key after', () => {
    const { hashed, hashText } = countingHash()
    const keyOf = createCredentialKeys(hashText)
    expect(keyOf('Basic a\n')).toBe(sha256('Basic a\n'))
    expect(keyOf('Basic a\n')).toBe(sha256('Basic a\n'))
    expect(hashed).toEqual(['Basic a\n'])
  })

  it('gives a changed text its own key, never a neighbour’s', () => {
    const { hashText } = countingHash()
    const keyOf = createCredentialKeys(hashText)
    const texts = ['Basic a\n', 'Basic a \n', 'basic a\n', 'Basic a\nJSESSIONID=1', '\nBasic a']
    for (const text of [...texts, ...texts]) expect(keyOf(text)).toBe(sha256(text))
  })

  it('keeps at most 256 texts, forgetting the oldest first', () => {
    const { hashed, hashText } = countingHash()
    const keyOf = createCredentialKeys(hashText)
    for (let i = 0; i < 257; i++) keyOf(`Basic user${i}\n`)
    hashed.length = 0
    // user0 was forgotten to make room for user256; user1 … user256 are still known.
    for (let i = 1; i < 257; i++) expect(keyOf(`Basic user${i}\n`)).toBe(sha256(`Basic user${i}\n`))
    expect(hashed).toEqual([])
    expect(keyOf('Basic user0\n')).toBe(sha256('Basic user0\n'))
    expect(hashed).toEqual(['Basic user0\n'])
  })

  it('never keeps a text over 4096 characters, and hashes it every time', () => {
    const { hashed, hashText } = countingHash()
    const keyOf = createCredentialKeys(hashText)
    const long = `Bearer ${'x'.repeat(4096)}\n`
    expect(keyOf(long)).toBe(sha256(long))
    expect(keyOf(long)).toBe(sha256(long))
    expect(hashed).toHaveLength(2)
  })
})
