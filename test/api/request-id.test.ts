/** Request ids: a safe client id is echoed; otherwise a fresh random version 4 UUID. */
import { describe, expect, it } from 'vitest'
import { newRandomUuid, toRequestId } from '../../src/api/request-id.ts'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('toRequestId', () => {
  it('keeps a safe client id and replaces a missing, unsafe or overlong one', () => {
    expect(toRequestId('client-id_1=')).toBe('client-id_1=')
    expect(toRequestId('x'.repeat(255))).toBe('x'.repeat(255))
    for (const unsafe of [null, undefined, '', 'not safe!', 'a\u00e9', 'x'.repeat(256)]) {
      expect(toRequestId(unsafe)).toMatch(UUID_V4)
    }
  })
})

describe('newRandomUuid', () => {
  it('gives version 4 UUIDs, all different, across many draws of random bytes', () => {
    const ids = Array.from({ length: 3000 }, () => newRandomUuid())
    for (const id of ids) expect(id).toMatch(UUID_V4)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('spreads every random digit over all 16 values, and the variant digit over its 4', () => {
    const ids = Array.from({ length: 2000 }, () => newRandomUuid())
    for (let position = 0; position < 36; position++) {
      const seen = new Set(ids.map((id) => id[position]))
      if ([8, 13, 18, 23].includes(position)) expect(seen).toEqual(new Set(['-']))
      else if (position === 14) expect(seen).toEqual(new Set(['4']))
      else if (position === 19) expect(seen).toEqual(new Set(['8', '9', 'a', 'b']))
      else expect(seen.size).toBe(16)
    }
  })
})
