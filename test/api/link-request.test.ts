/** The body of POST /{id}/link read into a lifetime and a form, checked against the result. */
import { describe, expect, it } from 'vitest'
import { toLinkOrder } from '../../src/api/link-request.ts'
import type { QueryRecord, ResultOptions } from '../../src/domain/query.ts'
import { GatewayError } from '../../src/errors.ts'

function recordOf(options: Partial<ResultOptions> = {}): QueryRecord {
  return {
    id: '3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41',
    owner: 'ANALYST',
    project: 'learn_kylin',
    options: { separator: ',', includeHeader: false, fileName: 'result', ...options },
    state: 'SUCCESSFUL',
    rows: 3,
    bytes: 42,
    createdAt: 1,
    updatedAt: 2,
    finishedAt: 2,
  }
}

function refusal(body: unknown, record = recordOf(), max = 86_400): string {
  try {
    toLinkOrder(body, record, max)
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError)
    expect((error as GatewayError).status).toBe(400)
    return (error as GatewayError).message
  }
  throw new Error(`expected a 400 for ${JSON.stringify(body)}`)
}

describe('toLinkOrder', () => {
  it('gives an hour by default, or the longest ttl when that is shorter', () => {
    expect(toLinkOrder({}, recordOf(), 86_400)).toEqual({ ttlSeconds: 3600, form: {} })
    expect(toLinkOrder({}, recordOf(), 600).ttlSeconds).toBe(600)
    expect(toLinkOrder({ ttl: null }, recordOf(), 86_400).ttlSeconds).toBe(3600)
  })

  it('takes a ttl from 1 to the longest, as a number or a numeric string', () => {
    expect(toLinkOrder({ ttl: 1 }, recordOf(), 86_400).ttlSeconds).toBe(1)
    expect(toLinkOrder({ ttl: '86400' }, recordOf(), 86_400).ttlSeconds).toBe(86_400)
    expect(refusal({ ttl: 0 })).toBe(
      'ttl must be a whole number of seconds from 1 to 86400 (LINK_MAX_TTL), not 0.',
    )
    expect(refusal({ ttl: 86_401 })).toContain('not 86401')
    expect(refusal({ ttl: 2.5 })).toContain('ttl must be a whole number')
    expect(refusal({ ttl: true })).toContain('ttl')
  })

  it('signs only the form asked for, spelt as the download reads it', () => {
    const order = toLinkOrder({ format: 'XLSX', include_header: 'true' }, recordOf(), 86_400)
    expect(order.form).toEqual({ format: 'xlsx', include_header: 'true' })
    expect(toLinkOrder({ encode: 'GBK' }, recordOf(), 86_400).form).toEqual({ encode: 'gbk' })
    expect(toLinkOrder({ include_header: false }, recordOf(), 86_400).form).toEqual({
      include_header: 'false',
    })
  })

  it('refuses a form the download would refuse, with its words', () => {
    expect(refusal({ format: 'txt' })).toMatch(/^Format txt unsupported/)
    expect(refusal({ encode: 'latin1' })).toMatch(/latin1/)
    expect(refusal({ format: 'csv' }, recordOf({ format: 'parquet' }))).toMatch(
      /written as parquet/,
    )
    expect(refusal({ format: 'json' }, recordOf({ separator: '"' }))).toMatch(/separator/)
    // The form it was written in needs no conversion, whatever the record holds.
    expect(toLinkOrder({ format: 'parquet' }, recordOf({ format: 'parquet' }), 60).form).toEqual({
      format: 'parquet',
    })
  })

  it('refuses a body that is not an object, or names a field it does not know', () => {
    for (const body of [null, [], 'ttl', 5]) expect(refusal(body)).toBeTruthy()
    expect(refusal({ ttl: 60, expires: 99 })).toMatch(/expires|Unrecognized/)
  })
})
