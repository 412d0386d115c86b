/**
 * Exports on export threads give what the main thread's exportResult gives (bytes, summary, the
 * same failure with the same message), hold the body back when the consumer does, cancel both
 * ways, and end FAILED with a clear message when a thread runs out of its heap. Node only.
 */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportResult, type ExportRequest } from '../../../../src/export/export-result.ts'
import { GatewayError, UpstreamError } from '../../../../src/errors.ts'
import {
  createExportThreads,
  type ExportThreads,
} from '../../../../src/runtime/node/export-thread/export-threads.ts'
import { createThreadedExporter } from '../../../../src/runtime/node/export-thread/threaded-exporter.ts'
import type { Exporter } from '../../../../src/export/export-result.ts'
import { response, split, toBodyOf, toOffsets } from '../../../export/kylin-responses.ts'
import { readAll, toSplitStream } from '../../../export/support.ts'
import { toSqlResponse } from '../../../support/test-deps.ts'

const encoder = new TextEncoder()

let threads: ExportThreads
let threaded: Exporter

beforeAll(() => {
  threads = createExportThreads({ threads: 2, heapMb: 64 })
  threaded = createThreadedExporter(threads)
})
afterAll(async () => {
  await threads.close()
})

type Outcome =
  | { bytes: Uint8Array; summary: unknown; progress: [number, number] | null }
  | { error: string; kind: string; status: number | undefined }

async function run(exporter: Exporter, body: ReadableStream<Uint8Array>, request: ExportRequest) {
  let progress: [number, number] | null = null
  const { stream, summary } = exporter(body, {
    ...request,
    onProgress: (rows, bytes) => (progress = [rows, bytes]),
  })
  const [read, result] = await Promise.allSettled([readAll(stream), summary])
  if (read.status === 'rejected') {
    expect(result.status).toBe('rejected')
    const error = read.reason as Error
    return {
      error: error.message,
      kind: error.constructor.name,
      status: error instanceof GatewayError ? error.status : undefined,
    } satisfies Outcome
  }
  if (result.status === 'rejected') throw new Error('the stream ended but the summary failed')
  return { bytes: read.value.bytes, summary: result.value, progress } satisfies Outcome
}

async function expectSame(body: Uint8Array, offsets: number[], request: ExportRequest) {
  const here = await run(exportResult, toSplitStream(body, offsets), request)
  const there = await run(threaded, toSplitStream(body, offsets), request)
  expect(there).toEqual(here)
  return there
}

const FORMATS: ExportRequest['format'][] = [
  { kind: 'csv', separator: ',', includeHeader: true },
  { kind: 'csv', separator: '||', includeHeader: false },
  { kind: 'json' },
  { kind: 'ndjson' },
  { kind: 'parquet', rowGroupSize: 3 },
  { kind: 'arrow', batchSize: 3 },
  { kind: 'xlsx', includeHeader: true },
]

describe('runtime/node/export-thread/threaded-exporter', () => {
  it('gives the same bytes, summary and failures as the main thread, every format, any split', async () => {
    await fc.assert(
      fc.asyncProperty(
        response({ maxRows: 6, maxColumns: 4 }),
        split,
        fc.constantFrom(...FORMATS),
        async (r, cut, format) => {
          const body = encoder.encode(toBodyOf(r))
          await expectSame(body, toOffsets(cut, body.length), {
            source: { kind: 'kylin-json' },
            format,
          })
        },
      ),
      { numRuns: 60 },
    )
  })

  it('hashes what it sends when asked: the SHA-256 of exactly the stream, or the failure', async () => {
    await fc.assert(
      fc.asyncProperty(
        response({ maxRows: 40, maxColumns: 4 }),
        split,
        fc.constantFrom(...FORMATS),
        async (r, cut, format) => {
          const body = encoder.encode(toBodyOf(r))
          const request: ExportRequest = { source: { kind: 'kylin-json' }, format, hash: true }
          const exported = threaded(toSplitStream(body, toOffsets(cut, body.length)), request)
          const [read, sha256] = await Promise.allSettled([
            readAll(exported.stream),
            exported.sha256,
          ])
          if (read.status === 'rejected') {
            expect(sha256.status).toBe('rejected')
            return
          }
          const expected = createHash('sha256').update(read.value.bytes).digest('hex')
          expect(sha256).toEqual({ status: 'fulfilled', value: expected })
        },
      ),
      { numRuns: 60 },
    )
    const small = toSqlResponse([{ name: 'A', type: 'VARCHAR' }], [['1'], ['2']])
    const unasked = threaded(toSplitStream(encoder.encode(small), []), {
      source: { kind: 'kylin-json' },
      format: { kind: 'csv', separator: ',', includeHeader: true },
    })
    expect(unasked.sha256).toBeUndefined()
    await readAll(unasked.stream)
  })

  it('gives the same GBK bytes, and the same failure naming the row and column', async () => {
    const columns = [{ name: 'CITY', type: 'VARCHAR' }]
    const good = encoder.encode(toSqlResponse(columns, [['東京'], ['Zürich'], [null]]))
    const bad = encoder.encode(toSqlResponse(columns, [['東京'], ['😀']]))
    for (const kind of ['csv', 'json', 'ndjson'] as const) {
      const format = kind === 'csv' ? { kind, separator: ',', includeHeader: true } : { kind }
      const request: ExportRequest = { source: { kind: 'kylin-json' }, format, encode: 'gbk' }
      expect(await expectSame(good, [7, 40], request)).toHaveProperty('bytes')
      const failed = await expectSame(bad, [30], request)
      expect(failed).toMatchObject({ kind: 'GatewayError', error: expect.stringMatching(/row 2/) })
    }
  })

  it('keeps an upstream failure an UpstreamError with its message', async () => {
    const broken = encoder.encode('{"columnMetas":[{"label":"A"}],"results":[["x"],["y"')
    const outcome = await expectSame(broken, [10], {
      source: { kind: 'kylin-json' },
      format: { kind: 'parquet' },
    })
    expect(outcome).toMatchObject({ kind: 'UpstreamError', status: 502 })
  })

  it('turns a body that breaks off into the same upstream failure, and frees its thread', async () => {
    const head = encoder.encode('{"columnMetas":[{"label":"A"}],"results":[["x"],')
    const failing = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(head)
        },
        pull(controller) {
          controller.error(new Error('other side closed'))
        },
      })
    const request: ExportRequest = { source: { kind: 'kylin-json' }, format: { kind: 'ndjson' } }
    const here = await run(exportResult, failing(), request)
    const there = await run(threaded, failing(), request)
    expect(there).toEqual(here)
    expect(there).toMatchObject({
      kind: 'UpstreamError',
      error: expect.stringContaining(`broke off after ${head.length} bytes`),
    })
    expect(threads.busy).toBe(0)
  })

  it('reads the body only a few chunks ahead of a consumer that does not read', async () => {
    const row = encoder.encode(',["' + 'x'.repeat(1000) + '"]')
    let pulled = 0
    let cancelled: unknown
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          controller.enqueue(encoder.encode('{"columnMetas":[{"label":"A"}],"results":[["a"]'))
        },
        pull(controller) {
          pulled++
          controller.enqueue(row)
        },
        cancel(reason) {
          cancelled = reason
        },
      },
      { highWaterMark: 0 },
    )
    const { stream, summary } = threaded(body, {
      source: { kind: 'kylin-json' },
      format: { kind: 'csv', separator: ',', includeHeader: true },
    })
    const reader = stream.getReader()
    await reader.read()
    await new Promise((resolve) => setTimeout(resolve, 300))
    // An endless body: what was read is bounded by the queue (256 KiB) and a few chunks ahead.
    expect(pulled).toBeGreaterThan(0)
    expect(pulled).toBeLessThan(400)
    const before = pulled
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(pulled).toBe(before)
    await reader.cancel(new Error('client went away'))
    await expect(summary).rejects.toThrow('client went away')
    expect(cancelled).toBeInstanceOf(Error)
    expect(threads.busy).toBe(0)
  })

  it('sends the file back in 1 MiB buffers, which a consumer gives back to hold the next batches', async () => {
    const columns = [
      { name: 'A', type: 'VARCHAR' },
      { name: 'B', type: 'VARCHAR' },
    ]
    const rows = Array.from({ length: 120_000 }, (_, i) => [`a${i}`, `${'b'.repeat(i % 40)}"${i}`])
    const body = encoder.encode(toSqlResponse(columns, rows))
    // CSV: a file smaller than the body; JSON: larger, so given-back buffers go to the thread.
    const formats: ExportRequest['format'][] = [
      { kind: 'csv', separator: ',', includeHeader: true },
      { kind: 'json' },
    ]
    for (const format of formats) {
      const request: ExportRequest = { source: { kind: 'kylin-json' }, format }
      const expected = await readAll(exportResult(toSplitStream(body, []), request).stream)
      expect(expected.bytes.length).toBeGreaterThan(3 * 1024 * 1024)

      // A byte-stream body, read into one buffer of the exporter's; every chunk given back once
      // copied, as the fs store does once it has written a chunk.
      const exported = threaded(new Blob([body]).stream(), {
        ...request,
        hash: true,
        recycle: true,
      })
      expect(exported.giveBack).toBeTypeOf('function')
      const copies: Uint8Array[] = []
      const sizes: number[] = []
      const reader = exported.stream.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        copies.push(value.slice())
        sizes.push(value.byteLength)
        exported.giveBack!(value)
      }
      const bytes = Buffer.concat(copies)
      expect(bytes.equals(Buffer.from(expected.bytes))).toBe(true)
      expect(await exported.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
      // Gathered: small chunks while the export starts (each batch handed on at once), then
      // whole MiBs, not one chunk per 64 KiB the kernel writes.
      const mib = 1024 * 1024
      expect(sizes.filter((size) => size === mib).length).toBeGreaterThanOrEqual(2)
      expect(sizes.length).toBeLessThan(bytes.length / mib + 20)
    }
  })

  it('hands on the output of a slow body at once, each small chunk in a buffer of its own size', async () => {
    const head = '{"columnMetas":[{"label":"A"}],"results":[["first"]'
    const parts = [head, ',["second"]', ',["third"]]}']
    let next = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // Slower than the exporter waits for more of a batch (10 ms).
        if (next > 0) await new Promise((resolve) => setTimeout(resolve, 40))
        if (next === parts.length) controller.close()
        else controller.enqueue(encoder.encode(parts[next++]))
      },
    })
    const { stream } = threaded(body, {
      source: { kind: 'kylin-json' },
      format: { kind: 'csv', separator: ',', includeHeader: true },
    })
    const { bytes, chunks } = await readAll(stream)
    expect(new TextDecoder().decode(bytes)).toBe('A\nfirst\nsecond\nthird\n')
    expect(chunks.length).toBeGreaterThanOrEqual(3)
    // A consumer that keeps its chunks holds what they say, not a MiB each.
    for (const chunk of chunks) expect(chunk.buffer.byteLength).toBe(chunk.byteLength)
  })

  it('runs an export on the main thread when every thread is busy, with the same bytes', async () => {
    const one = createExportThreads({ threads: 1, heapMb: 64 })
    try {
      const exporter = createThreadedExporter(one)
      const body = encoder.encode(toSqlResponse([{ name: 'A', type: 'VARCHAR' }], [['1'], ['2']]))
      const request: ExportRequest = { source: { kind: 'kylin-json' }, format: { kind: 'json' } }
      const first = exporter(toSplitStream(body, [5]), request)
      expect(one.busy).toBe(1)
      const second = exporter(toSplitStream(body, [9]), request)
      expect(one.busy).toBe(1)
      const [a, b] = await Promise.all([readAll(first.stream), readAll(second.stream)])
      expect(b.bytes).toEqual(a.bytes)
      expect(one.busy).toBe(0)
    } finally {
      await one.close()
    }
  })

  it('warms one thread ahead of an export, which the export then runs on', async () => {
    const one = createExportThreads({ threads: 1, heapMb: 64 })
    try {
      const exporter = createThreadedExporter(one)
      expect(one.idle).toBe(0)
      exporter.warm?.()
      exporter.warm?.()
      expect(one.idle).toBe(1)
      const body = encoder.encode(toSqlResponse([{ name: 'A', type: 'VARCHAR' }], [['1']]))
      const request: ExportRequest = { source: { kind: 'kylin-json' }, format: { kind: 'json' } }
      const running = exporter(toSplitStream(body, [3]), request)
      expect([one.idle, one.busy]).toEqual([0, 1])
      // Every thread busy: nothing to warm.
      exporter.warm?.()
      expect(one.idle).toBe(0)
      const here = await readAll(exportResult(toSplitStream(body, [3]), request).stream)
      expect((await readAll(running.stream)).bytes).toEqual(here.bytes)
      expect([one.idle, one.busy]).toEqual([1, 0])
    } finally {
      await one.close()
    }
    // Closed: nothing starts.
    one.warm()
    expect(one.idle).toBe(0)
  })

  it('ends FAILED naming EXPORT_THREAD_HEAP_MB when a thread runs out of heap, and goes on', async () => {
    const small = createExportThreads({ threads: 1, heapMb: 32 })
    try {
      const exporter = createThreadedExporter(small)
      // One row group of every row: the writer holds the whole result, far past 32 MiB.
      const rows = 400_000
      const row = ',["' + 'v'.repeat(20) + '","' + 'w'.repeat(20) + '","' + 'z'.repeat(20) + '"]'
      const parts = [
        '{"columnMetas":[{"label":"A"},{"label":"B"},{"label":"C"}],"results":[["a","b","c"]',
      ]
      for (let i = 0; i < rows; i += 10_000) parts.push(row.repeat(10_000))
      parts.push(']}')
      const body = new Blob(parts).stream()
      const outcome = await run(exporter, body, {
        source: { kind: 'kylin-json' },
        format: { kind: 'parquet', rowGroupSize: rows * 2 },
      })
      expect(outcome).toMatchObject({
        kind: 'GatewayError',
        status: 500,
        error: expect.stringContaining('EXPORT_THREAD_HEAP_MB=32'),
      })
      expect(small.busy).toBe(0)
      const next = encoder.encode(toSqlResponse([{ name: 'A', type: 'VARCHAR' }], [['1']]))
      const after = await run(exporter, toSplitStream(next, []), {
        source: { kind: 'kylin-json' },
        format: { kind: 'ndjson' },
      })
      expect(after).toMatchObject({ summary: { rows: 1 } })
    } finally {
      await small.close()
    }
  }, 60_000)
})
