/**
 * BlobStore on an S3-compatible bucket (AWS S3, MinIO, Ceph, R2's S3 API, …) over plain fetch.
 * Portable (fetch + WebCrypto, no node:*): requests are signed with aws4fetch, a tiny fetch-based
 * SigV4 signer with no dependencies that runs in workerd too, where the AWS SDK is heavy and Node-bound.
 */
import { AwsV4Signer } from 'aws4fetch'
import { toHex } from '../sha256.ts'
import type { BlobInfo, BlobObject, BlobStore, ByteRange, PutOptions } from './types.ts'
import { isValidKey } from './types.ts'
import {
  assertKey,
  checkPut,
  emptyStream,
  messageOf,
  readChunks,
  toDriverError,
} from './streams.ts'
import { DEFAULT_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, fillParts, tooManyParts } from './parts.ts'
import { escapeXmlText, readXmlBlocks, readXmlValue } from './s3-xml.ts'

export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  /** Of temporary credentials (STS); sent as X-Amz-Security-Token. */
  sessionToken?: string
}

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

const DRIVER = 's3'

const driverError = (action: string, key: string, cause: unknown) =>
  toDriverError(DRIVER, action, key, cause)
const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
/** S3 keys are at most 1024 bytes; store keys at most 200 characters (all ASCII). */
const MAX_PREFIX_BYTES = 1024 - 200
/** Throttling and server-side hiccups S3 documents as worth retrying. */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504])
const RETRY_BASE_DELAY_MS = 100
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** An S3 error answer, with its HTTP status and S3 error code (when the answer had a body). */
export class S3ResponseError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message)
    this.name = 'S3ResponseError'
  }
}

interface S3Request {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'
  /** The object's full key (prefix included); none for a request on the bucket itself. */
  objectKey?: string
  /** `''` sends a bare name (`?uploads`); `undefined` leaves the parameter out. */
  query?: Record<string, string | undefined>
  headers?: Record<string, string>
  body?: Uint8Array<ArrayBuffer>
  signal?: AbortSignal
}

export function createS3Store(options: S3StoreOptions): BlobStore {
  const { bucket, credentials } = options
  const region = options.region ?? 'us-east-1'
  const prefix = options.prefix ?? ''
  const partSize = options.partSize ?? DEFAULT_PART_SIZE
  const maxKeys = options.maxKeys ?? 1000
  const maxRetries = options.maxRetries ?? 3
  // Looked up per call, not captured: Workers want fetch called unbound, tests may replace it.
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init))
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
  const bucketUrl = toBucketUrl(bucket, region, options.endpoint)
  /** aws4fetch caches the day's derived signing key here, so signing costs two HMACs. */
  const signingKeys = new Map<string, ArrayBuffer>()

  function keyOf(key: string): string {
    assertKey(key)
    return prefix + key
  }

  function urlOf(request: S3Request): string {
    const path =
      request.objectKey === undefined
        ? ''
        : `/${request.objectKey.split('/').map(encodeRfc3986).join('/')}`
    const search = Object.entries(request.query ?? {})
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) =>
        value === '' ? encodeRfc3986(name) : `${encodeRfc3986(name)}=${encodeRfc3986(value)}`,
      )
      .join('&')
    return `${bucketUrl}${path}${search ? `?${search}` : ''}`
  }

  /** Signs and sends one request, retrying what S3 says is worth retrying. */
  async function send(action: string, key: string, request: S3Request): Promise<Response> {
    const url = urlOf(request)
    const body = request.body
    // The payload is signed too, so S3 refuses bytes damaged on the way rather than storing them.
    const payloadHash = body && body.byteLength > 0 ? await sha256Hex(body) : EMPTY_SHA256
    for (let attempt = 0; ; attempt++) {
      const signed = await new AwsV4Signer({
        method: request.method,
        url,
        headers: { ...request.headers, 'x-amz-content-sha256': payloadHash },
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
        service: 's3',
        region,
        cache: signingKeys,
      }).sign()
      let response: Response
      try {
        response = await fetchImpl(signed.url.toString(), {
          method: request.method,
          headers: signed.headers,
          ...(body ? { body } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        })
      } catch (err) {
        if (request.signal?.aborted) throw request.signal.reason
        if (attempt >= maxRetries) throw driverError(action, key, describeFetchFailure(err))
        await pause(retryDelay(attempt), request.signal)
        continue
      }
      if (attempt < maxRetries && RETRYABLE_STATUSES.has(response.status)) {
        await response.body?.cancel().catch(() => {})
        await pause(retryDelay(attempt), request.signal)
        continue
      }
      return response
    }
  }

  async function fail(action: string, key: string, response: Response): Promise<never> {
    throw driverError(action, key, await readS3Error(response))
  }

  async function head(key: string, objectKey: string): Promise<BlobInfo | null> {
    const response = await send('head', key, { method: 'HEAD', objectKey })
    if (response.ok) return { size: readContentLength(response, 'head', key) }
    // A HEAD answer has no body, so a missing bucket cannot be told from a missing key here.
    if (response.status === 404) return null
    return fail('head', key, response)
  }

  /** `null` for S3's NoSuchKey; any other answer is an error. */
  async function missingOrFail(action: string, key: string, response: Response): Promise<null> {
    const error = await readS3Error(response)
    if (response.status === 404 && (error.code === undefined || error.code === 'NoSuchKey')) {
      return null
    }
    throw driverError(action, key, error)
  }

  async function getRange(
    key: string,
    objectKey: string,
    start: number,
    end: number | undefined,
  ): Promise<BlobObject | null> {
    const asked = `bytes=${start}-${end ?? ''}`
    const response = await send('get', key, {
      method: 'GET',
      objectKey,
      headers: { range: asked },
    })
    if (response.status === 206) {
      const answered = response.headers.get('content-range') ?? ''
      const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(answered)
      const size = Number(match?.[3])
      const last = Math.min(end ?? size - 1, size - 1)
      // Serving other bytes than were asked for would corrupt a resumed download: refuse them.
      if (!match || Number(match[1]) !== start || Number(match[2]) !== last) {
        await response.body?.cancel().catch(() => {})
        throw driverError('get', key, new Error(`asked for ${asked}, got "${answered}"`))
      }
      return { size, body: bodyOf(response) }
    }
    if (response.status === 200) {
      // The server ignored Range and sent it all: fine only if all of it was asked for.
      const size = readContentLength(response, 'get', key)
      if (start === 0 && (end === undefined || end >= size - 1)) {
        return { size, body: bodyOf(response) }
      }
      await response.body?.cancel().catch(() => {})
      throw driverError('get', key, new Error(`asked for ${asked}, got the whole object`))
    }
    if (response.status === 416) {
      // S3 refuses a range starting at or past the end (so any range of an empty object); the
      // contract wants the size and an empty body. The head is paid only on this rare path.
      const refusal = await readS3Error(response)
      const info = await head(key, objectKey)
      if (!info) return null
      if (start < info.size) throw driverError('get', key, refusal)
      return { size: info.size, body: emptyStream() }
    }
    return missingOrFail('get', key, response)
  }

  async function putObject(key: string, objectKey: string, bytes: Uint8Array<ArrayBuffer>) {
    const response = await send('put', key, { method: 'PUT', objectKey, body: bytes })
    if (!response.ok) await fail('put', key, response)
    await drain(response)
  }

  async function createUpload(key: string, objectKey: string, signal: AbortSignal) {
    const response = await send('createMultipartUpload', key, {
      method: 'POST',
      objectKey,
      query: { uploads: '' },
      signal,
    })
    if (!response.ok) await fail('createMultipartUpload', key, response)
    const uploadId = readXmlValue(await response.text(), 'UploadId')
    if (!uploadId) {
      throw driverError('createMultipartUpload', key, new Error('the answer has no UploadId'))
    }
    return uploadId
  }

  async function uploadPart(
    key: string,
    objectKey: string,
    uploadId: string,
    partNumber: number,
    bytes: Uint8Array<ArrayBuffer>,
    signal: AbortSignal,
  ): Promise<string> {
    const response = await send('uploadPart', key, {
      method: 'PUT',
      objectKey,
      query: { partNumber: String(partNumber), uploadId },
      body: bytes,
      signal,
    })
    if (!response.ok) await fail('uploadPart', key, response)
    await drain(response)
    const etag = response.headers.get('etag')
    if (!etag) throw driverError('uploadPart', key, new Error(`part ${partNumber} has no ETag`))
    return etag
  }

  async function completeUpload(key: string, objectKey: string, uploadId: string, etags: string[]) {
    const parts = etags
      .map(
        (etag, index) =>
          `<Part><PartNumber>${index + 1}</PartNumber><ETag>${escapeXmlText(etag)}</ETag></Part>`,
      )
      .join('')
    const response = await send('completeMultipartUpload', key, {
      method: 'POST',
      objectKey,
      query: { uploadId },
      headers: { 'content-type': 'application/xml' },
      body: new TextEncoder().encode(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`),
    })
    if (!response.ok) await fail('completeMultipartUpload', key, response)
    // S3 may answer 200 and still fail: the error then comes in the body (it keeps the
    // connection alive with whitespace while it assembles the parts).
    const answer = await response.text()
    if (/<Error>/.test(answer)) {
      throw driverError('completeMultipartUpload', key, toS3Error(response, answer))
    }
  }

  /**
   * Best effort: an upload that cannot be aborted stays invisible, and the bucket's lifecycle
   * rule for incomplete multipart uploads (AbortIncompleteMultipartUpload) removes its parts.
   */
  async function abortUpload(key: string, objectKey: string, uploadId: string): Promise<void> {
    try {
      const response = await send('abortMultipartUpload', key, {
        method: 'DELETE',
        objectKey,
        query: { uploadId },
      })
      await drain(response)
    } catch {
      // Nothing more to do; the error that made us abort is the one worth reporting.
    }
  }

  return {
    name: DRIVER,

    async put(key: string, body: ReadableStream<Uint8Array>, putOptions?: PutOptions) {
      const signal = putOptions?.signal
      const objectKey = checkPut(body, signal, () => keyOf(key))

      // Everything of this put stops with it: on the caller's abort, or as soon as a part fails
      // (the body is then cancelled at once, not at the next part boundary).
      const stop = new AbortController()
      const onAbort = () => stop.abort(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })

      // PutObject needs the length up front and a result's is unknown: so the body is cut into
      // parts. One buffer fills while the previous part is in flight; there are never more.
      let uploadId: string | undefined
      let partCount = 0
      const etags: string[] = []
      let inFlight: { done: Promise<void>; buffer: Uint8Array<ArrayBuffer> } | undefined

      /** Sends one part and answers the buffer to fill next, while this part is in flight. */
      const sendPart = async (part: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> => {
        const previous = inFlight
        if (previous) await previous.done
        stop.signal.throwIfAborted()
        if (partCount >= MAX_PARTS) throw tooManyParts(DRIVER, key, partSize)
        uploadId ??= await createUpload(key, objectKey, stop.signal)
        const partNumber = ++partCount
        // The part's bytes stay untouched until its answer: a retry sends them again.
        const done = uploadPart(key, objectKey, uploadId, partNumber, part, stop.signal).then(
          (etag) => {
            etags[partNumber - 1] = etag
          },
        )
        // Observed here, so a failure is never unhandled and stops the put at once.
        done.catch((err: unknown) => stop.abort(err))
        inFlight = { done, buffer: part }
        return previous?.buffer ?? new Uint8Array(partSize)
      }

      try {
        const { size, rest } = await fillParts(
          readChunks(body, stop.signal, DRIVER),
          partSize,
          sendPart,
        )
        stop.signal.throwIfAborted()
        if (partCount === 0) {
          await putObject(key, objectKey, rest)
        } else {
          await sendPart(rest)
          await inFlight?.done
          stop.signal.throwIfAborted()
          await completeUpload(key, objectKey, uploadId!, etags)
        }
        // An abort that arrives after this point is too late: the blob is already visible.
        return { size }
      } catch (err) {
        stop.abort(err)
        // Aborting while a part is still being stored could leave that part behind.
        await inFlight?.done.catch(() => {})
        if (uploadId !== undefined) await abortUpload(key, objectKey, uploadId)
        throw err
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },

    async get(key: string, range?: ByteRange): Promise<BlobObject | null> {
      const objectKey = keyOf(key)
      if (range) {
        const start = Math.max(0, range.start)
        if (range.end >= start) {
          // An open-ended range (e.g. end = Infinity) is sent as `bytes=start-`.
          return getRange(
            key,
            objectKey,
            start,
            Number.isSafeInteger(range.end) ? range.end : undefined,
          )
        }
        const info = await head(key, objectKey)
        return info ? { size: info.size, body: emptyStream() } : null
      }
      const response = await send('get', key, { method: 'GET', objectKey })
      if (response.ok) {
        return { size: readContentLength(response, 'get', key), body: bodyOf(response) }
      }
      return missingOrFail('get', key, response)
    },

    async head(key: string): Promise<BlobInfo | null> {
      return head(key, keyOf(key))
    },

    async delete(key: string): Promise<void> {
      const objectKey = keyOf(key)
      const response = await send('delete', key, { method: 'DELETE', objectKey })
      // S3 answers 204 for a missing key too; some compatible services answer 404.
      if (response.ok || response.status === 404) return drain(response)
      return fail('delete', key, response)
    },

    async *list(): AsyncIterable<string> {
      const where = `s3://${bucket}/${prefix}`
      let token: string | undefined
      do {
        const response = await send('list', where, {
          method: 'GET',
          // The delimiter keeps S3 from walking "subfolders" below the prefix: a key with a `/`
          // is never a valid store key anyway.
          query: {
            'list-type': '2',
            prefix: prefix === '' ? undefined : prefix,
            delimiter: '/',
            'max-keys': String(maxKeys),
            'continuation-token': token,
          },
        })
        if (!response.ok) await fail('list', where, response)
        const page = await response.text()
        for (const contents of readXmlBlocks(page, 'Contents')) {
          const fullKey = readXmlValue(contents, 'Key') ?? ''
          const key = fullKey.slice(prefix.length)
          if (fullKey.startsWith(prefix) && isValidKey(key)) yield key
        }
        const truncated = readXmlValue(page, 'IsTruncated') === 'true'
        token = truncated ? readXmlValue(page, 'NextContinuationToken') : undefined
        if (truncated && !token) {
          throw driverError('list', where, new Error('a truncated page has no continuation token'))
        }
      } while (token !== undefined)
    },

    locate(key: string): string {
      return `s3://${bucket}/${keyOf(key)}`
    },
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

/** encodeURIComponent plus the characters SigV4's canonical form also escapes. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
}

/** Exponential backoff with jitter, as AWS recommends: ~100, 200, 400 ms … */
function retryDelay(attempt: number): number {
  return RETRY_BASE_DELAY_MS * 2 ** attempt * (0.5 + Math.random() / 2)
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** fetch's own message ("fetch failed") says little; the cause says what happened. */
function describeFetchFailure(err: unknown): Error {
  const cause = err instanceof Error ? err.cause : undefined
  const detail = cause === undefined ? '' : ` (${messageOf(cause)})`
  return new Error(`${messageOf(err)}${detail}`, { cause: err })
}

async function readS3Error(response: Response): Promise<S3ResponseError> {
  const text = response.body ? await response.text().catch(() => '') : ''
  return toS3Error(response, text)
}

function toS3Error(response: Response, text: string): S3ResponseError {
  const code = readXmlValue(text, 'Code')
  const message = readXmlValue(text, 'Message')
  const status = `HTTP ${response.status}`
  if (code)
    return new S3ResponseError(`${code}: ${message ?? ''} (${status})`, response.status, code)
  // HEAD answers (and some proxies) carry no S3 error body: say what the status usually means.
  const hint =
    response.status === 401 || response.status === 403
      ? ': access denied (wrong credentials, or not allowed on this bucket)'
      : response.statusText
        ? ` ${response.statusText}`
        : ''
  return new S3ResponseError(`${status}${hint}`, response.status, undefined)
}

function readContentLength(response: Response, action: string, key: string): number {
  const size = Number(response.headers.get('content-length') ?? Number.NaN)
  if (!Number.isSafeInteger(size) || size < 0) {
    throw driverError(action, key, new Error('the answer has no Content-Length'))
  }
  return size
}

/** Reads a small answer to its end, so the connection can be reused. */
async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => {})
}

function bodyOf(response: Response): ReadableStream<Uint8Array> {
  return response.body ?? emptyStream()
}
