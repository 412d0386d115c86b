/**
 * A test Worker: POST a Kylin SQLResponse body to `/?kernel=js|wasm&separator=…&chunk=…` and get
 * the CSV the fused kernel writes inside workerd (`x-kernel`: the fast path it took), or POST
 * `/bench?kernel=…&rows=…` to transcode a generated body held in memory and get its counts.
 * Portable (Workers).
 */
import type { KylinCsvKernel } from '../../../../src/export/kylin-csv/kernel-choice.ts'
import { KylinCsvTranscoder } from '../../../../src/export/kylin-csv/transcoder.ts'
import { provideRowsModule } from '../../../../src/export/kylin-csv/wasm/rows-module.ts'
import kylinCsvRows from '../../../../src/export/kylin-csv/wasm/kylin-csv-rows.wasm'
import { toBenchBody } from './bench-body.ts'

provideRowsModule(kylinCsvRows)

let benchBody: { rows: number; chunks: Uint8Array[] } | undefined

function transcode(chunks: Iterable<Uint8Array>, kernel: KylinCsvKernel, separator: string) {
  const out: Uint8Array[] = []
  const transcoder = new KylinCsvTranscoder(
    { separator, includeHeader: true, kernel },
    (chunk) => void out.push(chunk),
  )
  for (const chunk of chunks) transcoder.push(chunk)
  const summary = transcoder.finish()
  return { out, summary, kind: transcoder.kernelKind }
}

export default {
  async fetch(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams
    const kernel = params.get('kernel') === 'wasm' ? 'wasm' : 'js'
    if (new URL(request.url).pathname === '/bench') {
      const rows = Number(params.get('rows') ?? 1_000_000)
      if (benchBody?.rows !== rows) benchBody = { rows, chunks: toBenchBody(rows) }
      const { summary, kind } = transcode(benchBody.chunks, kernel, ',')
      return Response.json({ kernel: kind, rows: summary.rows, bytes: summary.bytes })
    }
    const body = new Uint8Array(await request.arrayBuffer())
    const chunk = Math.max(1, Number(params.get('chunk') ?? body.length))
    const chunks: Uint8Array[] = []
    for (let i = 0; i < body.length; i += chunk) chunks.push(body.subarray(i, i + chunk))
    try {
      const { out, summary, kind } = transcode(chunks, kernel, params.get('separator') ?? ',')
      const csv = new Uint8Array(out.reduce((n, c) => n + c.length, 0))
      out.reduce((offset, c) => (csv.set(c, offset), offset + c.length), 0)
      return new Response(csv, {
        headers: { 'x-kernel': kind, 'x-rows': String(summary.rows) },
      })
    } catch (error) {
      return Response.json({ error: (error as Error).message }, { status: 422 })
    }
  },
}
