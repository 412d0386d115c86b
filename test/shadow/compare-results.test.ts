import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createKylinJsonSource } from '../../src/export/sources/kylin-json.ts'
import { createStoredCsvSource } from '../../src/export/sources/stored-csv.ts'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import { compareResults } from '../../src/shadow/compare-results.ts'
import { createRowHashReader } from '../../src/shadow/row-hashes.ts'
import { toHex, type IncrementalHash } from '../../src/sha256.ts'

type Row = (string | null)[]

const nodeHash = (): IncrementalHash => {
  const hash = createHash('sha256')
  return { update: (c) => void hash.update(c), digest: async () => toHex(hash.digest()) }
}

/** `text` as a stream of `size`-byte chunks. */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, (at += size)))
    },
  })
}

const column = (name: string, type: string) => ({ label: name, name, columnTypeName: type })

function kylinJson(rows: Row[], types = ['INTEGER', 'VARCHAR'], names = ['ID', 'NAME']) {
  return JSON.stringify({
    columnMetas: names.map((name, i) => column(name, types[i]!)),
    results: rows,
    isException: false,
    exceptionMessage: null,
  })
}

const ROWS: Row[] = Array.from({ length: 500 }, (_, i) => [String(i), i % 7 ? `n,${i}` : null])
const METADATA = { names: ['ID', 'NAME'], types: ['INTEGER', 'VARCHAR'] }

async function compare(options: {
  shadow: string
  ordered: boolean
  primaryRows?: Row[]
  chunk?: number
}) {
  const csv = (options.primaryRows ?? ROWS).map((row) => encodeCsvRow(row, ',')).join('')
  return compareResults({
    primary: createRowHashReader(chunked(csv, 97), (sink) =>
      createStoredCsvSource({ separator: ',', header: false, metadata: METADATA }, sink),
    ),
    primaryColumns: METADATA,
    shadow: createRowHashReader(chunked(options.shadow, options.chunk ?? 61), (sink) =>
      createKylinJsonSource(sink),
    ),
    ordered: options.ordered,
    createHash: nodeHash,
  })
}

describe('compareResults: a stored CSV against a Kylin JSON answer', () => {
  it('matches the same rows, in order and out of order when unordered', async () => {
    const same = await compare({ shadow: kylinJson(ROWS), ordered: true })
    expect(same).toMatchObject({ match: true, primaryRows: 500, shadowRows: 500 })
    expect(same.firstDifference).toBeNull()
    const reversed = await compare({ shadow: kylinJson([...ROWS].reverse()), ordered: false })
    expect(reversed).toMatchObject({ match: true, shadowRows: 500 })
  })

  it('names the first differing row when ordered, whatever the chunking', async () => {
    const changed = ROWS.map((row, i) => (i === 321 ? [row[0]!, 'changed'] : row))
    for (const chunk of [7, 61, 4096]) {
      const result = await compare({ shadow: kylinJson(changed), ordered: true, chunk })
      expect(result.match).toBe(false)
      expect(result.firstDifference).toMatch(/^row 322 differs/)
    }
    const swapped = [ROWS[1]!, ROWS[0]!, ...ROWS.slice(2)]
    expect((await compare({ shadow: kylinJson(swapped), ordered: true })).firstDifference).toMatch(
      /^row 1 differs/,
    )
  })

  it('says rows differ, with the counts, when unordered', async () => {
    const changed = ROWS.map((row, i) => (i === 3 ? [row[0]!, 'changed'] : row))
    const result = await compare({ shadow: kylinJson(changed), ordered: false })
    expect(result.match).toBe(false)
    expect(result.firstDifference).toBe(
      'rows differ (compared without order; 500 rows on each side)',
    )
    const fewer = await compare({ shadow: kylinJson(ROWS.slice(0, 499)), ordered: false })
    expect(fewer.firstDifference).toBe('row counts differ: primary 500 rows, shadow 499')
    const more = await compare({ shadow: kylinJson([...ROWS, ['x', 'y']]), ordered: true })
    expect(more.firstDifference).toMatch(
      /^row 501 is missing on one side: primary 500 rows, shadow 501/,
    )
  })

  it('compares column names and types before rows', async () => {
    const types = await compare({ shadow: kylinJson(ROWS, ['BIGINT', 'VARCHAR']), ordered: false })
    expect(types.firstDifference).toContain('column types differ')
    const names = await compare({
      shadow: kylinJson(ROWS, undefined, ['ID', 'LABEL']),
      ordered: false,
    })
    expect(names.firstDifference).toContain('column names differ')
  })

  it('gives the same shadow hash for the same answer, another for another', async () => {
    const a = await compare({ shadow: kylinJson(ROWS), ordered: false })
    const b = await compare({ shadow: kylinJson([...ROWS].reverse()), ordered: false, chunk: 5 })
    const c = await compare({ shadow: kylinJson(ROWS.slice(1)), ordered: false })
    expect(a.shadowSha256).toMatch(/^[0-9a-f]{64}$/)
    expect(b.shadowSha256).toBe(a.shadowSha256)
    expect(c.shadowSha256).not.toBe(a.shadowSha256)
  })
})
