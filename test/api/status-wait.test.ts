/** How long a status call waits: `?wait=` strictly, `Prefer: wait` as RFC 7240 reads it. */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors.ts'
import { toStatusWait } from '../../src/api/status-wait.ts'

describe('toStatusWait', () => {
  it('takes ?wait= from 0 to 60 whole seconds, and refuses anything else with a 400', () => {
    expect(toStatusWait('0', undefined)).toEqual({ seconds: 0, preferred: false })
    expect(toStatusWait('60', undefined)).toEqual({ seconds: 60, preferred: false })
    for (const bad of ['61', '-1', '1.5', 'abc', '', ' 5', '100', '1e1']) {
      let error: unknown
      try {
        toStatusWait(bad, undefined)
      } catch (caught) {
        error = caught
      }
      expect(error, bad).toBeInstanceOf(GatewayError)
      expect((error as GatewayError).status).toBe(400)
      expect((error as GatewayError).message).toContain('from 0 to 60')
    }
  })

  it('reads Prefer: wait among other preferences, caps it at 60 and ignores what it cannot read', () => {
    expect(toStatusWait(undefined, 'wait=5')).toEqual({ seconds: 5, preferred: true })
    expect(toStatusWait(undefined, 'respond-async, WAIT = "7"')).toEqual({
      seconds: 7,
      preferred: true,
    })
    expect(toStatusWait(undefined, 'wait=10; x=y')).toEqual({ seconds: 10, preferred: true })
    expect(toStatusWait(undefined, 'wait=3600')).toEqual({ seconds: 60, preferred: true })
    expect(toStatusWait(undefined, 'wait=soon')).toBeUndefined()
    expect(toStatusWait(undefined, 'return=minimal')).toBeUndefined()
    expect(toStatusWait(undefined, undefined)).toBeUndefined()
  })

  it('lets ?wait= win over Prefer', () => {
    expect(toStatusWait('2', 'wait=30')).toEqual({ seconds: 2, preferred: false })
  })
})
