/**
 * A real S3-compatible server for tests: s3rver 3.7 in this process on a loopback port, plus a
 * fetch that makes it answer as AWS S3 does where s3rver falls short. Tests only, Node only.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AwsV4Signer } from 'aws4fetch'
import S3rver from 's3rver'

/** The one account s3rver knows. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const

export interface RecordedS3Request {
  method: string
  /** Path without the bucket, e.g. `/results/q-1.csv` (`''` for the bucket itself). */
  path: string
  query: URLSearchParams
  bodyBytes: number
}

/** Answers a request in S3's stead (e.g. an injected failure), or `undefined` to pass it on. */
export type S3Interceptor = (
  request: RecordedS3Request,
) => Response | undefined | Promise<Response | undefined>

export interface S3TestServer {
  /** Path-style endpoint, e.g. `http://127.0.0.1:41234`. */
  endpoint: string
  bucket: string
  /** Every request the S3-like fetch saw, in order. */
  requests: RecordedS3Request[]
  /** A fetch to give the store: s3rver, corrected to answer as S3 (see `toS3Answer`). */
  fetch: typeof fetch
  /** The same, with `intercept` consulted first. */
  fetchWith(intercept: S3Interceptor): typeof fetch
  /** Every key in the bucket, prefixes included. */
  listAllKeys(): Promise<string[]>
  /** Ids of multipart uploads started and neither completed nor aborted. */
  listPendingUploads(): Promise<string[]>
  /** Deletes every object and pending upload, and forgets the recorded requests. */
  empty(): Promise<void>
  close(): Promise<void>
}

export async function startS3TestServer(bucket = 'results-bucket'): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  })
  const { port } = await server.run()
  const endpoint = `http://127.0.0.1:${port}`
  const uploadsDir = join(directory, bucket, '._S3rver_uploads')
  const requests: RecordedS3Request[] = []
  /** The last write to each object path, so the next waits for it (see `isObjectWrite`). */
  const writes = new Map<string, Promise<unknown>>()

  /**
   * s3rver writes an object in place, so two writes of one key at once can interleave into a
   * torn object; S3 keeps one of them whole. Writes of one key are therefore sent one by one.
   */
  function serializeWrite(path: string, send: () => Promise<Response>): Promise<Response> {
    const sent = (writes.get(path) ?? Promise.resolve()).then(send, send)
    writes.set(
      path,
      sent.catch(() => {}),
    )
    return sent
  }

  async function listAllKeys(): Promise<string[]> {
    // s3rver serves unsigned requests; a V1 listing needs no continuation token.
    const xml = await (await fetch(`${endpoint}/${bucket}`)).text()
    return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]!)
  }

  async function listPendingUploads(): Promise<string[]> {
    return readdir(uploadsDir).catch(() => [])
  }

  const fetchWith =
    (intercept?: S3Interceptor): typeof fetch =>
    async (input, init) => {
      const url = new URL(String(input))
      const method = init?.method ?? 'GET'
      const body = init?.body instanceof Uint8Array ? init.body : undefined
      const recorded: RecordedS3Request = {
        method,
        path: url.pathname.slice(bucket.length + 1),
        query: url.searchParams,
        bodyBytes: body?.byteLength ?? 0,
      }
      requests.push(recorded)
      const injected = await intercept?.(recorded)
      if (injected) return injected
      const refusal = await checkSignature(url, method, new Headers(init?.headers), body)
      if (refusal) return refusal
      const send = () => toS3Answer(url, method, init, uploadsDir)
      return isObjectWrite(url, method) ? serializeWrite(url.pathname, send) : send()
    }

  return {
    endpoint,
    bucket,
    requests,
    fetch: fetchWith(),
    fetchWith,
    listAllKeys,
    listPendingUploads,
    async empty() {
      for (const key of await listAllKeys()) {
        await fetch(`${endpoint}/${bucket}/${key}`, { method: 'DELETE' })
      }
      await rm(uploadsDir, { recursive: true, force: true })
      requests.length = 0
    },
    async close() {
      server.httpServer?.closeAllConnections()
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}

/** PutObject and CompleteMultipartUpload: the requests that make an object visible. */
function isObjectWrite(url: URL, method: string): boolean {
  return (
    (method === 'PUT' && !url.searchParams.has('partNumber')) ||
    (method === 'POST' && url.searchParams.has('uploadId'))
  )
}

/** An S3 error answer as AWS words it (HEAD answers carry no body). */
export function s3ErrorAnswer(
  status: number,
  code: string,
  message: string,
  method = 'GET',
): Response {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`
  return new Response(method === 'HEAD' ? null : xml, {
    status,
    headers: { 'content-type': 'application/xml' },
  })
}

/**
 * s3rver 3.7 accepts any SigV4 signature (it checks only the access key id); S3 recomputes it
 * with the secret, and checks the signed payload hash against the body. So do we.
 */
async function checkSignature(
  url: URL,
  method: string,
  headers: Headers,
  body: Uint8Array | undefined,
): Promise<Response | undefined> {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      headers.get('authorization') ?? '',
    )
  if (!auth) return undefined // unsigned, or a key id s3rver itself will refuse
  const [, accessKeyId, region, signedHeaders, signature] = auth
  if (accessKeyId !== S3RVER_CREDENTIALS.accessKeyId) return undefined
  const signedValues: Record<string, string> = {}
  for (const name of signedHeaders!.split(';')) {
    if (name !== 'host') signedValues[name] = headers.get(name) ?? ''
  }
  const expected = await new AwsV4Signer({
    method,
    url: url.toString(),
    headers: signedValues,
    ...S3RVER_CREDENTIALS,
    service: 's3',
    region: region!,
    datetime: headers.get('x-amz-date') ?? '',
  }).sign()
  if (!expected.headers.get('authorization')?.endsWith(`Signature=${signature}`)) {
    return s3ErrorAnswer(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      method,
    )
  }
  const payloadHash = headers.get('x-amz-content-sha256') ?? ''
  const actual = createHash('sha256')
    .update(body ?? new Uint8Array())
    .digest('hex')
  if (/^[0-9a-f]{64}$/.test(payloadHash) && payloadHash !== actual) {
    return s3ErrorAnswer(
      400,
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      method,
    )
  }
  return undefined
}

/** Sends the request to s3rver, mending the answers where s3rver 3.7 differs from S3. */
async function toS3Answer(
  url: URL,
  method: string,
  init: RequestInit | undefined,
  uploadsDir: string,
): Promise<Response> {
  const uploadId = url.searchParams.get('uploadId')
  if (method === 'DELETE' && uploadId !== null) {
    // s3rver has no AbortMultipartUpload (405); S3 drops the upload and its parts.
    const uploadDir = join(uploadsDir, uploadId)
    const pending = await readdir(uploadDir).then(
      () => true,
      () => false,
    )
    if (!pending) return s3ErrorAnswer(404, 'NoSuchUpload', 'The specified upload does not exist.')
    await rm(uploadDir, { recursive: true, force: true })
    return new Response(null, { status: 204 })
  }
  if (method === 'GET' && url.searchParams.get('list-type') === '2') {
    return listObjectsV2(url, init)
  }
  const response = await fetch(url, init)
  const range = new Headers(init?.headers).get('range')
  return range && response.status === 206 ? mendRange(range, response) : response
}

/**
 * s3rver makes its V2 continuation tokens with DES, which Node 20's OpenSSL 3 refuses (a 500
 * whenever a page is truncated). V1 listings page with a marker instead: ask for those, and
 * answer with the marker as the continuation token.
 */
async function listObjectsV2(url: URL, init: RequestInit | undefined): Promise<Response> {
  const v1 = new URL(url)
  v1.searchParams.delete('list-type')
  const token = v1.searchParams.get('continuation-token')
  v1.searchParams.delete('continuation-token')
  if (token !== null) v1.searchParams.set('marker', Buffer.from(token, 'base64').toString('utf8'))
  const response = await fetch(v1, init)
  if (!response.ok) return response
  const xml = (await response.text()).replace(
    /<NextMarker>([^<]*)<\/NextMarker>/,
    (_match, marker: string) =>
      `<NextContinuationToken>${Buffer.from(marker).toString('base64')}</NextContinuationToken>`,
  )
  return new Response(xml, { status: 200, headers: { 'content-type': 'application/xml' } })
}

/**
 * s3rver reads `bytes=0-0` as "from 0 to the end", and answers any range of an empty object
 * with a 206 it cannot finish. S3 sends the one byte, and refuses the empty range with a 416.
 */
async function mendRange(range: string, response: Response): Promise<Response> {
  const asked = /^bytes=(\d+)-(\d*)$/.exec(range)
  const answered = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '')
  if (!asked || !answered) return response
  const size = Number(answered[3])
  if (size === 0) {
    await response.body?.cancel().catch(() => {})
    return s3ErrorAnswer(416, 'InvalidRange', 'The requested range is not satisfiable')
  }
  const start = Number(asked[1])
  const last = asked[2] === '' ? size - 1 : Math.min(Number(asked[2]), size - 1)
  if (Number(answered[2]) === last) return response
  const bytes = new Uint8Array(await response.arrayBuffer()).slice(0, last - start + 1)
  const headers = new Headers(response.headers)
  headers.set('content-range', `bytes ${start}-${last}/${size}`)
  headers.set('content-length', String(bytes.byteLength))
  return new Response(bytes, { status: 206, headers })
}
