/**
 * The Cloudflare Workers entry: the same createApp as Node, with R2 for results and one Durable
 * Object per query for its record and its run. Workers only. Deploy: `npx wrangler deploy`.
 */
import type { ExecutionContext } from '@cloudflare/workers-types'
import { hideLinkSignature } from '../../api/signed-link.ts'
import { createGateway, type GatewayApp } from '../../app.ts'
import { ConfigError, toErrorResponse } from '../../errors.ts'
import { createDurableObjectRunner } from '../../queries/durable-object-runner.ts'
import { createDurableObjectRegistry } from '../../registry/durable-object.ts'
import {
  createDigestHash,
  createWorkerDocsAssets,
  createWorkerParts,
  type WorkerEnv,
} from './deps.ts'

export { LimiterObject } from './limiter-object.ts'
export { QueryObject } from './query-object.ts'

/**
 * One gateway per isolate (the identity cache lives as long as the isolate: per-isolate memory,
 * so a credential may be checked once per isolate and TTL). Rebuilt if the bindings change.
 */
let cached: { env: WorkerEnv; gateway: GatewayApp } | undefined

function getGateway(env: WorkerEnv): GatewayApp {
  if (cached?.env === env) return cached.gateway
  const parts = createWorkerParts(env)
  const gateway = createGateway(
    {
      config: parts.config,
      store: parts.store,
      registry: createDurableObjectRegistry({ objects: parts.objects, store: parts.store }),
      kylin: parts.kylin,
      upstreams: parts.upstreams,
      fetch: (input, init) => fetch(input, init),
      logger: parts.logger,
      // Queries run in their Durable Objects; nothing else here runs past its request.
      defer: (task) => void task(),
      now: Date.now,
      newId: () => crypto.randomUUID(),
      createHash: createDigestHash,
    },
    {
      runner: createDurableObjectRunner(parts.objects, () => parts.limiter().countQueued()),
      compressDownloads: false,
      // workerd ends an errored body as if whole (workerd#6818): followers wait for the end here.
      // The query's object can stream its live bytes (QueryObject#follow) once that is fixed.
      followLive: false,
      docsAssets: env.ASSETS ? createWorkerDocsAssets(env.ASSETS) : undefined,
    },
  )
  cached = { env, gateway }
  return gateway
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let gateway: GatewayApp
    try {
      gateway = getGateway(env)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      // A misconfigured deployment says what to fix, in Kylin's envelope.
      const reply = toErrorResponse(new Error(error.message), {
        lang: 'en',
        url: hideLinkSignature(request.url),
        requestId: '',
      })
      return Response.json(
        { ...reply.body, msg: `Gateway configuration: ${error.message}` },
        { status: 500 },
      )
    }
    return gateway.app.fetch(request, env, ctx)
  },
}
