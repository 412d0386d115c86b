/** The status envelope: built once per record version and dialect shape, anew after a change. */
import { describe, expect, it } from 'vitest'
import { toDialect } from '../../src/api/dialect.ts'
import { toStatusBody } from '../../src/api/status-answer.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { makeRecord } from '../registry/contract.ts'

const ID = '7d1c0f3e-5b2a-4c8d-9e6f-000000000001'
const RUNNING: QueryRecord = { ...makeRecord(ID), owner: 'ANALYST' }
const legacy = toDialect(null)
const v4 = toDialect('application/vnd.apache.kylin-v4-public+json')

describe('toStatusBody', () => {
  it('reuses the body of an unchanged record and builds a new one for its next version', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    await registry.create(RUNNING)
    const first = (await registry.get(ID))!
    const body = toStatusBody(ID, first, legacy, 'en')
    expect(toStatusBody(ID, (await registry.get(ID))!, legacy, 'en')).toBe(body)
    expect(JSON.parse(body.text)).toEqual({
      code: '000',
      data: {
        queryID: ID,
        status: 'RUNNING',
        info: 'still running',
        rows_written: 0,
        bytes_written: 0,
      },
      msg: '',
    })

    const next = (await registry.update(ID, { rows: 10, bytes: 200 }))!
    const after = toStatusBody(ID, next, legacy, 'en')
    expect(after).not.toBe(body)
    expect(JSON.parse(after.text).data).toMatchObject({ rows_written: 10, bytes_written: 200 })
  })

  it('keeps one body per id field and language', () => {
    const record = Object.freeze({ ...RUNNING, state: 'SUCCESSFUL' as const })
    const texts = [
      toStatusBody(ID, record, legacy, 'en').text,
      toStatusBody(ID, record, legacy, 'cn').text,
      toStatusBody(ID, record, v4, 'en').text,
      toStatusBody(ID, record, v4, 'cn').text,
    ]
    expect(texts.map((text) => JSON.parse(text).data)).toEqual([
      { queryID: ID, status: 'SUCCESSFUL', info: 'await fetching results', rows: 0, bytes: 0 },
      { queryID: ID, status: 'SUCCESSFUL', info: '等待获取结果', rows: 0, bytes: 0 },
      { query_id: ID, status: 'SUCCESSFUL', info: 'await fetching results', rows: 0, bytes: 0 },
      { query_id: ID, status: 'SUCCESSFUL', info: '等待获取结果', rows: 0, bytes: 0 },
    ])
  })

  it('builds anew for a record that may change in place, and counts UTF-8 bytes', () => {
    const record: QueryRecord = { ...RUNNING, state: 'FAILED', error: 'bad' }
    const body = toStatusBody(ID, record, legacy, 'en')
    record.error = '上海'
    const changed = toStatusBody(ID, record, legacy, 'en')
    expect(JSON.parse(changed.text).data.info).toBe('上海')
    expect(changed.bytes).toBe(new TextEncoder().encode(changed.text).byteLength)
    // "bad" is 3 bytes, "上海" 6.
    expect(changed.bytes).toBe(body.bytes + 3)
  })

  it('answers MISSING for no record', () => {
    expect(JSON.parse(toStatusBody(ID, null, v4, 'en').text).data).toEqual({
      query_id: ID,
      status: 'MISSING',
      info: 'query status is lost',
    })
  })
})

describe('the shadow verdict in the status answer', () => {
  it('rides beside the fields of every dialect, in the documented shape, and changes with it', async () => {
    const { legacyStatusAnswerSchema, v4StatusAnswerSchema } =
      await import('../../src/api/responses.ts')
    const registry = createMemoryRegistry({ maxRecords: 10 })
    await registry.create({
      ...RUNNING,
      shadow: {
        status: 'RUNNING',
        match: null,
        rows: null,
        primaryRows: null,
        sha256: null,
        firstDifference: null,
      },
    })
    const done = (await registry.update(ID, { state: 'SUCCESSFUL', rows: 2, bytes: 8 }))!
    const running = JSON.parse(toStatusBody(ID, done, legacy, 'en').text).data
    expect(running.shadow).toEqual({
      status: 'RUNNING',
      match: null,
      rows: null,
      primary_rows: null,
      sha256: null,
      first_difference: null,
    })
    const judged = (await registry.updateShadow!(ID, {
      status: 'FAILED',
      match: false,
      rows: null,
      primaryRows: 2,
      sha256: null,
      firstDifference: 'the shadow run failed where the primary answered 2 rows',
      message: 'Table not found',
      finishedAt: 5,
    }))!
    const legacyData = JSON.parse(toStatusBody(ID, judged, legacy, 'en').text).data
    const v4Data = JSON.parse(toStatusBody(ID, judged, v4, 'en').text).data
    expect(legacyData.shadow).toEqual({
      status: 'FAILED',
      match: false,
      rows: null,
      primary_rows: 2,
      sha256: null,
      first_difference: 'the shadow run failed where the primary answered 2 rows',
      message: 'Table not found',
    })
    expect(legacyStatusAnswerSchema.safeParse(legacyData).success).toBe(true)
    expect(v4StatusAnswerSchema.safeParse(v4Data).success).toBe(true)
    expect(legacyStatusAnswerSchema.safeParse(running).success).toBe(true)
  })
})
