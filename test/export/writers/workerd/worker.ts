/**
 * A test Worker: POST a Kylin SQLResponse body to `/?format=parquet` or `/?format=arrow` and get
 * the file back, written by exportResult inside workerd. Portable (Workers).
 */
import { exportResult } from '../../../../src/export/export-result.ts'

export default {
  async fetch(request: Request): Promise<Response> {
    const kind = new URL(request.url).searchParams.get('format')
    if ((kind !== 'parquet' && kind !== 'arrow') || !request.body) {
      return new Response('POST a body to ?format=parquet or ?format=arrow', { status: 400 })
    }
    const { stream, summary } = exportResult(request.body, {
      source: { kind: 'kylin-json' },
      format: { kind },
    })
    // The file is buffered here so a failure can answer 500 with its message.
    try {
      const [bytes, { rows }] = await Promise.all([new Response(stream).arrayBuffer(), summary])
      return new Response(bytes, { headers: { 'x-rows': String(rows) } })
    } catch (error) {
      return new Response((error as Error).message, { status: 500 })
    }
  },
}
