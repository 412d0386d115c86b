/**
 * GBK exports inside workerd as deployed (no nodejs_compat, so no Buffer): a probe Worker bundled
 * by wrangler writes bytes iconv-lite reads back, and fails on an emoji naming row and column.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWorker } from '../../support/worker-build.ts'

let mf: Miniflare
let outdir: string

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'gbk-worker-'))
  const config = join(outdir, 'wrangler.toml')
  const main = join(import.meta.dirname, 'gbk-worker.ts')
  await writeFile(
    config,
    `name = "gbk-probe"\nmain = ${JSON.stringify(main)}\ncompatibility_date = "2026-04-20"\n`,
  )
  const scriptPath = await buildWorker(join(outdir, 'dist'), config)
  mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: join(outdir, 'dist'),
    compatibilityDate: '2026-04-20',
  })
  await mf.ready
}, 120_000)

afterAll(async () => {
  await mf?.dispose()
  if (outdir) await rm(outdir, { recursive: true, force: true })
})

async function post(format: string, body: unknown) {
  return mf.dispatchFetch(`http://probe/?format=${format}`, {
    method: 'POST',
    body: JSON.stringify(body),
  })
}

describe('export/encoding in workerd', () => {
  const columnMetas = [{ label: '名称' }, { label: 'B' }]

  it('writes GBK that iconv-lite reads back, in every text format', async () => {
    const results = [
      ['北京', '€5'],
      ['a,"b"', null],
    ]
    const expected: Record<string, string> = {
      csv: '名称，B\n北京，€5\n"a,""b"""，\n',
      json: '["{\\"名称\\":\\"北京\\",\\"B\\":\\"€5\\"}","{\\"名称\\":\\"a,\\\\\\"b\\\\\\"\\",\\"B\\":null}"]',
      ndjson: '{"名称":"北京","B":"€5"}\n{"名称":"a,\\"b\\"","B":null}\n',
    }
    for (const [format, text] of Object.entries(expected)) {
      const res = await post(format, { columnMetas, results })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-rows')).toBe('2')
      const bytes = new Uint8Array(await res.arrayBuffer())
      expect(iconv.decode(bytes, 'gbk')).toBe(text)
      expect(bytes).toEqual(new Uint8Array(iconv.encode(text, 'gbk')))
    }
  })

  it('fails on an emoji naming its row and column, the summary rejected too', async () => {
    const res = await post('ndjson', {
      columnMetas,
      results: [
        ['a', 'b'],
        ['c', 'd'],
        ['e', '😀'],
      ],
    })
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({
      error: expect.stringContaining('U+1F600 in row 3, column 2 ("B") cannot be written in GBK'),
      summary: 'rejected',
    })
  })
})
