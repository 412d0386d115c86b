/**
 * The Kylin JSON source on its own: columns with their type facts, rows in batches of whole
 * rows, late columnMetas, and the memory bounds that fail instead of growing. Portable.
 */
import { describe, expect, it } from 'vitest'
import { UpstreamError } from '../../../src/errors.ts'
import { createKylinJsonSource } from '../../../src/export/sources/kylin-json.ts'
import type { Cell, Column, RowBatch, RowSource } from '../../../src/export/types.ts'

const encoder = new TextEncoder()
const MIB = 1024 * 1024

function collect() {
  const events: string[] = []
  const rows: Cell[][] = []
  const batches: RowBatch[] = []
  let columns: readonly Column[] | null = null
  const source = createKylinJsonSource({
    start(c) {
      events.push('start')
      columns = c
    },
    rows(batch) {
      events.push('rows')
      batches.push(batch)
      let from = 0
      for (const end of batch.rowEnds) {
        rows.push(batch.cells.slice(from, end))
        from = end
      }
    },
  })
  return { source, events, rows, batches, columns: () => columns }
}

function pushAll(source: RowSource, body: string, size = Infinity) {
  const bytes = encoder.encode(body)
  for (let at = 0; at < bytes.length; at += size) source.push(bytes.subarray(at, at + size))
}

describe('export/sources/kylin-json', () => {
  it("gives the columns with Kylin's type facts before any row", () => {
    const run = collect()
    const metas = [
      { label: 'L', name: 'N', columnTypeName: 'DECIMAL', precision: 19, scale: 4, isNullable: 1 },
      { name: 'D', columnTypeName: 'DATE', isNullable: 0 },
      { label: 'X', isNullable: 2 },
    ]
    pushAll(run.source, JSON.stringify({ columnMetas: metas, results: [['1.50', null, 'x']] }), 7)
    expect(run.events[0]).toBe('start')
    expect(run.columns()).toEqual([
      { label: 'L', name: 'N', typeName: 'DECIMAL', precision: 19, scale: 4, nullable: true },
      { label: 'D', name: 'D', typeName: 'DATE', precision: null, scale: null, nullable: false },
      { label: 'X', name: 'X', typeName: '', precision: null, scale: null, nullable: null },
    ])
    const summary = run.source.finish()
    expect(run.rows).toEqual([['1.50', null, 'x']])
    expect(summary).toMatchObject({ rows: 1, partial: false })
  })

  it('keeps number and boolean text, and gives ragged and empty rows as they are', () => {
    const run = collect()
    pushAll(run.source, '{"results":[[1.50,-0,2e+3,true,false,null],[],["a"]]}', 3)
    run.source.finish()
    expect(run.rows).toEqual([['1.50', '-0', '2e+3', 'true', 'false', null], [], ['a']])
  })

  it('holds rows back until the end when columnMetas comes after results', () => {
    const run = collect()
    pushAll(run.source, '{"results":[["a"],["b"]],"partial":true,"columnMetas":[{"label":"A"}]}', 4)
    expect(run.events).toEqual([])
    expect(run.source.finish()).toMatchObject({ rows: 2, partial: true })
    expect(run.events).toEqual(['start', 'rows'])
    expect(run.rows).toEqual([['a'], ['b']])
  })

  it('hands on whole rows in bounded batches, even from one huge chunk', () => {
    const run = collect()
    const rows = Array.from({ length: 10_000 }, (_, i) => [`r${i}`, null, 'x'])
    pushAll(run.source, JSON.stringify({ columnMetas: [], results: rows }))
    run.source.finish()
    expect(run.rows).toEqual(rows)
    expect(run.batches.length).toBeGreaterThan(2)
    for (const batch of run.batches) {
      expect(batch.cells.length).toBe(batch.rowEnds.at(-1))
      expect(batch.cells.length).toBeLessThanOrEqual(8192 + 3)
    }
  })

  describe('memory bounds', () => {
    function pushRepeated(source: RowSource, head: string, part: Uint8Array, count: number) {
      source.push(encoder.encode(head))
      for (let i = 0; i < count; i++) source.push(part)
    }

    it('fails on a single cell larger than 64 MiB', () => {
      const { source } = collect()
      expect(() =>
        pushRepeated(source, '{"results":[["', new Uint8Array(MIB).fill(97), 65),
      ).toThrow(/a cell larger than 64 MiB \(row 1\)/)
    })

    it('fails when more than 64 MiB of rows wait for a late columnMetas', () => {
      const row = encoder.encode(`["${'b'.repeat(1000)}"],`)
      const part = new Uint8Array(row.length * 1000)
      for (let i = 0; i < 1000; i++) part.set(row, i * row.length)
      const { source } = collect()
      expect(() => pushRepeated(source, '{"results":[', part, 70)).toThrow(
        /"results" before "columnMetas"/,
      )
    })

    it('fails when the members outside results exceed 64 MiB', () => {
      const { source } = collect()
      let error: unknown
      try {
        pushRepeated(source, '{"cube":"', new Uint8Array(MIB).fill(97), 65)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(UpstreamError)
      expect((error as Error).message).toMatch(/more than 64 MiB outside "results"/)
    })
  })
})
