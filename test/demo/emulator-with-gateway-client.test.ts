/**
 * The emulator as the gateway's upstream, over a real socket: the gateway's client and
 * transcoder read its answers, its SQL errors reach the gateway in Kylin's words, and a
 * download abandoned half-way leaves the emulator serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UpstreamError } from '../../src/errors.ts'
import { createKylinClient } from '../../src/upstream/client.ts'
import { transcodeKylinResult } from '../../src/export/kylin-csv/transcode-stream.ts'
import { startKylinEmulator, type KylinEmulator } from '../../demo/kylin/server.ts'

const ADMIN = { authorization: `Basic ${Buffer.from('ADMIN:KYLIN').toString('base64')}` }
const query = (sql: string, project: string) => ({
  sql,
  project,
  offset: 0,
  limit: 0,
  acceptPartial: false,
})

let kylin: KylinEmulator

beforeAll(async () => {
  kylin = await startKylinEmulator({ port: 0, ssbScale: 0.002 })
})
afterAll(() => kylin.close())

describe('the emulator behind the gateway client', () => {
  it('answers what the transcoder turns into CSV and metadata', async () => {
    const client = createKylinClient({ baseUrl: kylin.url, fetch })
    const body = await client.query(
      query(
        "select trans_id, part_dt, cast(null as varchar) as nothing, 'a,b' as text from kylin_sales order by trans_id limit 2",
        'learn_kylin',
      ),
      ADMIN,
    )
    const { csv, summary } = transcodeKylinResult(body, { separator: ',', includeHeader: true })
    const text = await new Response(csv).text()
    const lines = text.split('\n')
    expect(lines[0]).toBe('TRANS_ID,PART_DT,NOTHING,TEXT')
    expect(lines[1]).toMatch(/^0,\d{4}-\d{2}-\d{2},,"a,b"$/)
    expect(await summary).toMatchObject({
      rows: 2,
      metadata: {
        names: ['TRANS_ID', 'PART_DT', 'NOTHING', 'TEXT'],
        types: ['BIGINT', 'DATE', 'VARCHAR', 'VARCHAR'],
      },
    })
  })

  it('fails a bad query with the emulator’s Kylin message', async () => {
    const client = createKylinClient({ baseUrl: kylin.url, fetch })
    const failure = client.query(
      query('select no_such_column from kylin_sales', 'learn_kylin'),
      ADMIN,
    )
    await expect(failure).rejects.toBeInstanceOf(UpstreamError)
    await expect(failure).rejects.toThrow(/no_such_column.*while executing SQL/)
  })

  it('keeps serving after a client abandons a large answer', async () => {
    const client = createKylinClient({ baseUrl: kylin.url, fetch })
    const body = await client.query(
      query('select * from p_lineorder, (select 1 from range(20))', 'ssb'),
      ADMIN,
    )
    const reader = body.getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    await reader.cancel()
    const again = await client.query(query('select count(*) from p_lineorder', 'ssb'), ADMIN)
    const text = await new Response(again).text()
    expect(JSON.parse(text).results).toEqual([['12000']])
  })
})
