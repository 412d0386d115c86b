/** The query list's cursor: opaque both ways, and refused unless this list gave it out. */
import { describe, expect, it } from 'vitest'
import { fromCursor, toCursor } from '../../src/api/list-cursor.ts'
import { GatewayError } from '../../src/errors.ts'

const ID = '3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41'

describe('api/list-cursor', () => {
  it('gives back the place it was made from, in URL-safe characters', () => {
    const cursor = toCursor({ createdAt: 1_767_323_045_123, id: ID })
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(fromCursor(cursor)).toEqual({ createdAt: 1_767_323_045_123, id: ID })
  })

  it('refuses with 400 what it did not give out, never passing on an id that is not one', () => {
    const forged = (text: string) => btoa(text).replace(/=+$/, '')
    for (const cursor of [
      'not a cursor!',
      '',
      forged(`12.../../etc/passwd`),
      forged(`abc.${ID}`),
      forged(`12.${ID}x`),
      forged(ID),
    ]) {
      let error: unknown
      try {
        fromCursor(cursor)
      } catch (caught) {
        error = caught
      }
      expect(error, cursor).toBeInstanceOf(GatewayError)
      expect(error).toMatchObject({ status: 400 })
      expect((error as Error).message).toContain('next_cursor')
    }
  })
})
