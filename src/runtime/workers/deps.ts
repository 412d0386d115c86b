/**
 * What the Worker entry and the query Durable Object share: bindings → config, R2 store,
 * upstream client, console logger, SHA-256 via DigestStream. Workers only.
 */
import type { DurableObjectNamespace, Fetcher, R2Bucket } from '@cloudflare/workers-types'
import type { DocsAssetSource } from '../../api/docs.ts'
import { parseConfig, type Config } from '../../config/config.ts'
import type { IncrementalHash } from '../../sha256.ts'
import { toHex } from '../../sha256.ts'
import { createConsoleLogger, type Logger } from '../../logger.ts'
import type { QueryObjectApi, QueryObjectDirectory } from '../../registry/durable-object.ts'
import { createR2Store } from '../../store/r2.ts'
import { createS3Store } from '../../store/s3.ts'
import type { BlobStore } from '../../store/types.ts'
import { createKylinClient } from '../../upstream/client.ts'
import type { KylinClient } from '../../upstream/types.ts'
import { toUpstreamRouter, type UpstreamRouter } from '../../upstream/upstream-router.ts'

export interface WorkerEnv {
  /** R2 bucket of results (wrangler.toml `r2_buckets`); unused with STORE=s3. */
  RESULTS: R2Bucket
  /** One Durable Object per query (wrangler.toml `durable_objects`). */
  QUERIES: DurableObjectNamespace
  /** The one object that caps concurrent queries across isolates (wrangler.toml). */
  LIMITER: DurableObjectNamespace
  /** Bucket name shown in `result_path` (`r2://<name>/<key>`). */
  RESULTS_BUCKET_NAME?: string
  /** swagger-ui-dist as static assets for /docs (wrangler.toml `[assets]`). */
  ASSETS?: Fetcher
  /** Settings as Worker vars / secrets, the same names as on Node. */
  [setting: string]: unknown
}

export interface WorkerParts {
  config: Config
  store: BlobStore
  kylin: KylinClient
  /** The new cluster's client when KYLIN_SHADOW_URL is set (shadow runs). */
  shadowKylin?: KylinClient
  /** Every upstream of KYLIN_UPSTREAMS with its client, the default first. */
  upstreams: UpstreamRouter
  logger: Logger
  objects: QueryObjectDirectory
  /** A stub is bound to the request that made it: ask for one per use. */
  limiter(): LimiterObjectApi
}

/** The RPC methods of the limiter object (limiter-object.ts). */
export interface LimiterObjectApi {
  acquire(id: string, owner: string, leaseMs: number): Promise<void>
  withdraw(id: string): Promise<void>
  release(id: string): Promise<void>
  countQueued(): Promise<number>
  countActive(): Promise<number>
}

/** Worker vars may be numbers or booleans in wrangler.toml; settings are parsed from text. */
function toSettings(env: WorkerEnv): Record<string, string | undefined> {
  const settings: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      settings[name] = String(value)
    }
  }
  // Results live in R2 on Workers unless STORE=s3 names a bucket; fs and memory need a process.
  settings.STORE = settings.STORE === 's3' ? 's3' : 'r2'
  return settings
}

export function createWorkerParts(env: WorkerEnv): WorkerParts {
  const config = parseConfig(toSettings(env))
  // The global fetch, called unbound: workerd rejects `this` other than globalThis.
  const kylinClientFor = (baseUrl: string) =>
    createKylinClient({ baseUrl, fetch: (input, init) => fetch(input, init) })
  const kylin = kylinClientFor(config.upstreamUrl)
  return {
    config,
    store: config.s3
      ? // aws4fetch signs with Web Crypto; requests go through the global fetch, unbound.
        createS3Store({ ...config.s3, fetch: (input, init) => fetch(input, init) })
      : createR2Store({
          bucket: env.RESULTS,
          bucketName: env.RESULTS_BUCKET_NAME ?? 'kylin-async-results',
        }),
    kylin,
    upstreams: toUpstreamRouter(config.upstreams, kylin, kylinClientFor),
    ...(config.shadow ? { shadowKylin: kylinClientFor(config.shadow.url) } : {}),
    logger: createConsoleLogger(config.logLevel, { service: 'kylin-async-gateway' }),
    objects: (id) => env.QUERIES.get(env.QUERIES.idFromName(id)) as unknown as QueryObjectApi,
    limiter: () =>
      env.LIMITER.get(env.LIMITER.idFromName('limiter')) as unknown as LimiterObjectApi,
  }
}

interface DigestStreamLike extends WritableStream<Uint8Array> {
  readonly digest: Promise<ArrayBuffer>
}

/** SHA-256 with workerd's native `crypto.DigestStream`, fed as chunks pass by. */
export function createDigestHash(): IncrementalHash {
  const DigestStream = (
    crypto as unknown as { DigestStream: new (algorithm: string) => DigestStreamLike }
  ).DigestStream
  const stream = new DigestStream('SHA-256')
  const writer = stream.getWriter()
  let failure: unknown
  return {
    update(chunk) {
      writer.write(chunk).catch((error: unknown) => (failure ??= error))
    },
    async digest() {
      await writer.close()
      if (failure) throw failure
      return toHex(new Uint8Array(await stream.digest))
    },
  }
}

/**
 * /docs assets from the `[assets]` binding. With `run_worker_first` nothing there is served
 * directly: only the files the core asks for, by name, at the directory's root.
 */
export function createWorkerDocsAssets(assets: Fetcher): DocsAssetSource {
  return async (file, request) => {
    const url = new URL(`/${file}`, request.url)
    const answer = await assets.fetch(url.href, {
      method: request.method,
      headers: request.headers as unknown as Record<string, string>,
    })
    // workers-types and the DOM name the same Response differently.
    return answer as unknown as Response
  }
}
