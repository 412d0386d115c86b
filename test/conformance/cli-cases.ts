/**
 * Conformance cases of the `kylin-export` command, run on every target by suite.ts: the command
 * (a child process) exports and checks a result against the target, and resumes a partial file
 * with Range and If-Range, which the target must honour exactly: a kept prefix is continued
 * (206), a prefix whose ETag no longer matches is replaced by the whole file (200).
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parquetReadObjects } from 'hyparquet'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { toGeneratedRow } from '../support/fake-kylin.ts'
import { runExportProcess } from '../support/export-process.ts'
import type { ConformanceContext } from './suite.ts'

const PASSWORD_ENV = { KYLIN_PASSWORD: 'ANALYST' }

function generatedCsv(n: number): string {
  let csv = ''
  for (let i = 1; i <= n; i++) csv += `${toGeneratedRow(i).join(',')}\n`
  return csv
}

export function addCliCases({ target, api, submit, waitForEnd }: ConformanceContext): void {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kylin-export-conformance-'))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  const login = () => ['--url', target().url, '--user', 'ANALYST', '--retry-delay', '50', '-q']

  /** A finished CSV query, its bytes and its ETag. */
  const finishedCsv = async (rows: number) => {
    const id = await submit({ sql: `select * from rows_${rows}` })
    expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
    const head = await api(`/${id}/result_download`, {
      method: 'HEAD',
      headers: { 'Accept-Encoding': 'identity' },
    })
    return { id, etag: head.headers.get('etag')!, bytes: Buffer.from(generatedCsv(rows)) }
  }

  it('kylin-export: exports Parquet and checks it against the status (size, SHA-256)', async () => {
    const out = join(dir, 'rows.parquet')
    const run = await runExportProcess(
      [
        ...login(),
        '--project',
        'learn_kylin',
        '--sql',
        'select * from rows_1500',
        '-f',
        'parquet',
        '-o',
        out,
      ],
      PASSWORD_ENV,
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const bytes = await readFile(out)
    const rows = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    })
    expect(rows).toHaveLength(1500)
    expect(rows[1499]).toMatchObject({ ID: 1500n, NAME: 'NAME_1500' })
  })

  it('kylin-export: resumes a kept partial file with Range (a spoiled prefix then fails the check)', async () => {
    const { id, etag, bytes } = await finishedCsv(3000)
    const out = join(dir, `${id}.csv`)
    const keep = 10_000
    const resume = async (prefix: Buffer) => {
      await writeFile(`${out}.part`, prefix)
      await writeFile(`${out}.part.json`, JSON.stringify({ query_id: id, etag }))
      return runExportProcess([...login(), '--query-id', id, '-o', out], PASSWORD_ENV)
    }
    const whole = await resume(bytes.subarray(0, keep))
    expect(whole.stderr).toBe('')
    expect(whole.code).toBe(0)
    expect(
      createHash('sha256')
        .update(await readFile(out))
        .digest('hex'),
    ).toBe(createHash('sha256').update(bytes).digest('hex'))
    // The same length of other bytes: only a 206 that continued it can end in a mismatch.
    const spoiled = Buffer.from(bytes.subarray(0, keep))
    spoiled[0] = spoiled[0]! ^ 0xff
    await rm(out)
    const mismatch = await resume(spoiled)
    expect(mismatch.code).toBe(4)
    expect(mismatch.stderr).toMatch(/not the stored result \(its SHA-256 is/)
  })

  it('kylin-export: a partial file whose ETag no longer matches is downloaded again whole', async () => {
    const { id, bytes } = await finishedCsv(2000)
    const out = join(dir, `${id}.csv`)
    const spoiled = Buffer.from(bytes.subarray(0, 5000))
    spoiled[0] = spoiled[0]! ^ 0xff
    await writeFile(`${out}.part`, spoiled)
    await writeFile(`${out}.part.json`, JSON.stringify({ query_id: id, etag: '"0000"' }))
    const run = await runExportProcess([...login(), '--query-id', id, '-o', out], PASSWORD_ENV)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect((await readFile(out)).equals(bytes)).toBe(true)
  })
}
