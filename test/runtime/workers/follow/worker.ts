/**
 * A test Worker: the gateway's own Worker, and `GET /test/follow/<id>`, which follows the query
 * through its Durable Object's `follow` RPC in this isolate and reports, as lines of text, that
 * it follows, then how the stream ended (`closed <bytes>` or `errored <bytes>`): what workerd's
 * HTTP layer hides from a client of an errored body (cloudflare/workerd#6818). Workers only.
 */
import type { ExecutionContext } from '@cloudflare/workers-types'
import gateway from '../../../../src/runtime/workers/worker.ts'
import { createWorkerParts, type WorkerEnv } from '../../../../src/runtime/workers/deps.ts'

export { LimiterObject, QueryObject } from '../../../../src/runtime/workers/worker.ts'

const FOLLOW_PATH = /^\/test\/follow\/([0-9a-f-]{36})$/

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    const id = FOLLOW_PATH.exec(new URL(request.url).pathname)?.[1]
    if (!id) return gateway.fetch(request, env, ctx)
    const followed = await createWorkerParts(env).objects(id).follow()
    if (!(followed instanceof ReadableStream)) return new Response(`${String(followed)}\n`)
    const encoder = new TextEncoder()
    const reader = followed.getReader()
    let reported = false
    // Pulled by the response itself: the RPC stream is read in this request's own I/O context.
    const report = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('following\n'))
      },
      async pull(controller) {
        if (reported) return
        reported = true
        let bytes = 0
        try {
          for (;;) {
            const next = await reader.read()
            if (next.done) break
            bytes += next.value.byteLength
          }
          controller.enqueue(encoder.encode(`closed ${bytes}\n`))
        } catch {
          controller.enqueue(encoder.encode(`errored ${bytes}\n`))
        }
        controller.close()
      },
    })
    return new Response(report)
  },
}
