/**
 * A probe Worker for gbk-workerd.test.ts: GBK exports run inside workerd, without
 * nodejs_compat, answering what they wrote or how they failed. Workers.
 */
import { exportResult, type ExportFormat } from '../../../src/export/export-result.ts'

const FORMATS: Record<string, ExportFormat> = {
  csv: { kind: 'csv', separator: '，', includeHeader: true },
  json: { kind: 'json' },
  ndjson: { kind: 'ndjson' },
}

export default {
  async fetch(request: Request): Promise<Response> {
    const format = FORMATS[new URL(request.url).searchParams.get('format') ?? 'csv']!
    const { stream, summary } = exportResult(request.body!, {
      source: { kind: 'kylin-json' },
      format,
      encode: 'gbk',
    })
    try {
      const bytes = await new Response(stream).arrayBuffer()
      const { rows } = await summary
      return new Response(bytes, { headers: { 'x-rows': String(rows) } })
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500
      const summarised = await summary.then(
        () => 'resolved',
        () => 'rejected',
      )
      return Response.json({ error: (error as Error).message, summary: summarised }, { status })
    }
  },
}
