/**
 * Signed requests to one S3 bucket, retried where S3 says it is worth it, and S3's answers read
 * into errors. Portable (fetch + WebCrypto): aws4fetch signs, a tiny SigV4 signer with no
 * dependencies that runs in workerd too, where the AWS SDK is heavy and Node-bound.
 */
import { AwsV4Signer } from 'aws4fetch'
import { toHex } from '../sha256.ts'
import { emptyStream, messageOf, toDriverError } from './streams.ts'
import { readErrorFields } from './s3-xml.ts'

export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  /** Of temporary credentials (STS); sent as X-Amz-Security-Token. */
  sessionToken?: string
}

export const DRIVER = 's3'

/** Throttling and server-side hiccups S3 documents as worth retrying. */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504])
const RETRY_BASE_DELAY_MS = 100
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export const toS3DriverError = (action: string, key: string, cause: unknown) =>
  toDriverError(DRIVER, action, key, cause)

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

export interface S3Request {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'
  /** The object's full key (prefix included); none for a request on the bucket itself. */
  objectKey?: string
  /** `''` sends a bare name (`?uploads`); `undefined` leaves the parameter out. */
  query?: Record<string, string | undefined>
  headers?: Record<string, string>
  body?: Uint8Array<ArrayBuffer>
  signal?: AbortSignal
}

export interface S3ClientOptions {
  /** The bucket's base URL, without a trailing slash. */
  bucketUrl: string
  credentials: S3Credentials
  region: string
  fetch: typeof fetch
  maxRetries: number
}

export interface S3Client {
  /** Signs and sends one request, retrying what S3 says is worth retrying. */
  send(action: string, key: string, request: S3Request): Promise<Response>
  /** Throws the driver error for an answer that is not a success. */
  fail(action: string, key: string, response: Response): Promise<never>
}

export function createS3Client(options: S3ClientOptions): S3Client {
  const { bucketUrl, credentials, region, maxRetries } = options
  const fetchImpl = options.fetch
  /** aws4fetch caches the day's derived signing key here, so signing costs two HMACs. */
  const signingKeys = new Map<string, ArrayBuffer>()

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
        if (attempt >= maxRetries) throw toS3DriverError(action, key, describeFetchFailure(err))
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
    throw toS3DriverError(action, key, await readS3Error(response))
  }

  return { send, fail }
}

/** encodeURIComponent plus the characters SigV4's canonical form also escapes. */
export function encodeRfc3986(text: string): string {
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

export async function readS3Error(response: Response): Promise<S3ResponseError> {
  const text = response.body ? await response.text().catch(() => '') : ''
  return toS3Error(response, text)
}

export function toS3Error(response: Response, text: string): S3ResponseError {
  const { code, message } = readErrorFields(text) ?? {}
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

export function readContentLength(response: Response, action: string, key: string): number {
  const size = Number(response.headers.get('content-length') ?? Number.NaN)
  if (!Number.isSafeInteger(size) || size < 0) {
    throw toS3DriverError(action, key, new Error('the answer has no Content-Length'))
  }
  return size
}

/** Reads a small answer to its end, so the connection can be reused. */
export async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => {})
}

export function bodyOf(response: Response): ReadableStream<Uint8Array> {
  return response.body ?? emptyStream()
}
