/**
 * The Parquet and Arrow writers inside workerd: a test Worker bundled by wrangler as the
 * gateway's own (no nodejs_compat) runs exportResult, and its files are the bytes Node writes.
 */
import { tableFromIPC } from 'apache-arrow'
import { parquetReadObjects } from 'hyparquet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestWorker } from '../../support/worker-build.ts'
import { exportMixed, MIXED_ROWS, toMixedBody } from './columnar-support.ts'

let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined
let url: string

beforeAll(async () => {
  worker = await startTestWorker('test/export/writers/workerd/wrangler.toml')
  url = worker.url
}, 120_000)

afterAll(async () => {
  await worker?.stop()
})

async function post(format: string, body: string) {
  const res = await fetch(`${url}/?format=${format}`, { method: 'POST', body })
  return { status: res.status, rows: res.headers.get('x-rows'), bytes: await res.bytes() }
}

describe('columnar writers in workerd', () => {
  it('writes the same Parquet bytes as Node', async () => {
    const { status, rows, bytes } = await post('parquet', toMixedBody())
    expect(status).toBe(200)
    expect(rows).toBe('4')
    expect(bytes).toEqual((await exportMixed({ kind: 'parquet' })).bytes)
    const read = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer })
    expect(read.map((r) => r.ID)).toEqual([
      9007199254740993n,
      null,
      -9223372036854775808n,
      9223372036854775807n,
    ])
  })

  it('writes the same Arrow stream as Node', async () => {
    const { status, bytes } = await post('arrow', toMixedBody())
    expect(status).toBe(200)
    expect(bytes).toEqual((await exportMixed({ kind: 'arrow' })).bytes)
    expect(tableFromIPC(bytes).numRows).toBe(4)
  })

  it('fails on a cell its column cannot hold, with the row and column', async () => {
    const bad = MIXED_ROWS[0]!.map((c, i) => (i === 0 ? 'secret' : c))
    const { status, bytes } = await post('parquet', toMixedBody([bad]))
    expect(status).toBe(500)
    expect(new TextDecoder().decode(bytes)).toBe(
      'The result cannot be written as Parquet: row 1, column "ID" (BIGINT): the value is not an integer.',
    )
  })
})
