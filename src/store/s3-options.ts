/**
 * The S3 store's options, checked once at creation and resolved to settings with defaults and
 * the bucket's URL. Portable: no I/O.
 */
import { DEFAULT_PART_SIZE, MIN_PART_SIZE } from './parts.ts'
import { DRIVER, encodeRfc3986, type S3Credentials } from './s3-client.ts'

export interface S3StoreOptions {
  bucket: string
  credentials: S3Credentials
  /**
   * Base URL of an S3-compatible service, e.g. `http://minio:9000`. Buckets there are addressed
   * path-style (`<endpoint>/<bucket>/<key>`), which such services accept without DNS per bucket.
   * Default: AWS S3 in `region`, virtual-hosted style.
   */
  endpoint?: string
  /** Region the requests are signed for. Default `us-east-1`. */
  region?: string
  /** Prepended to every key, e.g. `results/`, so the store can share a bucket. Default ''. */
  prefix?: string
  /** Sends the requests (Node passes its undici pool). Default: the global fetch. */
  fetch?: typeof fetch
  /** Bytes per multipart part and size of the part buffer. Default 8 MiB, min 5 MiB. */
  partSize?: number
  /** Keys asked for per ListObjectsV2 page; S3 answers at most 1000. Default 1000. */
  maxKeys?: number
  /** How often a request answered 429 / 5xx, or failing on the network, is tried again. Default 3. */
  maxRetries?: number
}

export interface S3Settings {
  bucket: string
  credentials: S3Credentials
  region: string
  prefix: string
  fetch: typeof fetch
  partSize: number
  maxKeys: number
  maxRetries: number
  /** The bucket's base URL, without a trailing slash. */
  bucketUrl: string
}

const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
/** S3 keys are at most 1024 bytes; store keys at most 200 characters (all ASCII). */
const MAX_PREFIX_BYTES = 1024 - 200

/** Checks every option and fills in the defaults; throws on the first one that is wrong. */
export function toS3Settings(options: S3StoreOptions): S3Settings {
  const { bucket, credentials } = options
  const region = options.region ?? 'us-east-1'
  const prefix = options.prefix ?? ''
  const partSize = options.partSize ?? DEFAULT_PART_SIZE
  const maxKeys = options.maxKeys ?? 1000
  const maxRetries = options.maxRetries ?? 3
  if (typeof bucket !== 'string' || bucket === '' || bucket.includes('/')) {
    throw new Error(`[${DRIVER}] bucket must be a non-empty name without '/'`)
  }
  if (!credentials?.accessKeyId || !credentials.secretAccessKey) {
    throw new Error(`[${DRIVER}] credentials need an accessKeyId and a secretAccessKey`)
  }
  if (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region)) {
    throw new Error(`[${DRIVER}] region must be a region name such as us-east-1`)
  }
  checkPrefix(prefix)
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    throw new Error(
      `[${DRIVER}] partSize must be an integer from ${MIN_PART_SIZE} to ${MAX_PART_SIZE} bytes, got ${String(partSize)}`,
    )
  }
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new Error(`[${DRIVER}] maxKeys must be a positive integer`)
  }
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new Error(`[${DRIVER}] maxRetries must be an integer of at least 0`)
  }
  return {
    bucket,
    credentials,
    region,
    prefix,
    // Looked up per call, not captured: Workers want fetch called unbound, tests may replace it.
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    partSize,
    maxKeys,
    maxRetries,
    bucketUrl: toBucketUrl(bucket, region, options.endpoint),
  }
}

function checkPrefix(prefix: string): void {
  const fine =
    typeof prefix === 'string' &&
    new TextEncoder().encode(prefix).byteLength <= MAX_PREFIX_BYTES &&
    !prefix.startsWith('/') &&
    // URLs resolve `.` and `..` segments away, so such a key could not be addressed as written.
    !prefix.split('/').some((segment) => segment === '.' || segment === '..') &&
    !/[\u0000-\u001f\u007f]/.test(prefix)
  if (!fine) {
    throw new Error(
      `[${DRIVER}] prefix must be at most ${MAX_PREFIX_BYTES} bytes, not start with '/', and hold no '.' or '..' segment or control character`,
    )
  }
}

function toBucketUrl(bucket: string, region: string, endpoint: string | undefined): string {
  if (endpoint === undefined) {
    // Dotted names break the TLS wildcard of virtual-hosted URLs, so they go path-style.
    return bucket.includes('.')
      ? `https://s3.${region}.amazonaws.com/${encodeRfc3986(bucket)}`
      : `https://${bucket}.s3.${region}.amazonaws.com`
  }
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new Error(`[${DRIVER}] endpoint must be an http:// or https:// URL`)
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash) {
    throw new Error(`[${DRIVER}] endpoint must be an http:// or https:// URL`)
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/${encodeRfc3986(bucket)}`
}
