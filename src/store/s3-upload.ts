/**
 * Streams a put body into S3: one PutObject when it fits a part, else a multipart upload with
 * one part in flight while the next fills, aborted on any failure. Portable: fetch + Web streams.
 */
import { MAX_PARTS, fillParts, tooManyParts } from './parts.ts'
import { DRIVER, drain, toS3DriverError, toS3Error, type S3Client } from './s3-client.ts'
import { readErrorFields, readUploadId, toCompleteMultipartUpload } from './s3-xml.ts'
import { readChunks } from './streams.ts'

export interface S3Upload {
  client: S3Client
  /** The store key, for messages. */
  key: string
  /** The object's full key (prefix included). */
  objectKey: string
  partSize: number
}

/** Stores `body` under the upload's key and answers its size; nothing is visible on failure. */
export async function uploadBody(
  upload: S3Upload,
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<{ size: number }> {
  const { key, partSize } = upload
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
    uploadId ??= await createUpload(upload, stop.signal)
    const partNumber = ++partCount
    // The part's bytes stay untouched until its answer: a retry sends them again.
    const done = uploadPart(upload, uploadId, partNumber, part, stop.signal).then((etag) => {
      etags[partNumber - 1] = etag
    })
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
      await putObject(upload, rest)
    } else {
      await sendPart(rest)
      await inFlight?.done
      stop.signal.throwIfAborted()
      await completeUpload(upload, uploadId!, etags)
    }
    // An abort that arrives after this point is too late: the blob is already visible.
    return { size }
  } catch (err) {
    stop.abort(err)
    // Aborting while a part is still being stored could leave that part behind.
    await inFlight?.done.catch(() => {})
    if (uploadId !== undefined) await abortUpload(upload, uploadId)
    throw err
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

async function putObject(upload: S3Upload, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const { client, key, objectKey } = upload
  const response = await client.send('put', key, { method: 'PUT', objectKey, body: bytes })
  if (!response.ok) await client.fail('put', key, response)
  await drain(response)
}

async function createUpload(upload: S3Upload, signal: AbortSignal): Promise<string> {
  const { client, key, objectKey } = upload
  const response = await client.send('createMultipartUpload', key, {
    method: 'POST',
    objectKey,
    query: { uploads: '' },
    signal,
  })
  if (!response.ok) await client.fail('createMultipartUpload', key, response)
  const uploadId = readUploadId(await response.text())
  if (!uploadId) {
    throw toS3DriverError('createMultipartUpload', key, new Error('the answer has no UploadId'))
  }
  return uploadId
}

async function uploadPart(
  upload: S3Upload,
  uploadId: string,
  partNumber: number,
  bytes: Uint8Array<ArrayBuffer>,
  signal: AbortSignal,
): Promise<string> {
  const { client, key, objectKey } = upload
  const response = await client.send('uploadPart', key, {
    method: 'PUT',
    objectKey,
    query: { partNumber: String(partNumber), uploadId },
    body: bytes,
    signal,
  })
  if (!response.ok) await client.fail('uploadPart', key, response)
  await drain(response)
  const etag = response.headers.get('etag')
  if (!etag) throw toS3DriverError('uploadPart', key, new Error(`part ${partNumber} has no ETag`))
  return etag
}

async function completeUpload(upload: S3Upload, uploadId: string, etags: string[]) {
  const { client, key, objectKey } = upload
  const response = await client.send('completeMultipartUpload', key, {
    method: 'POST',
    objectKey,
    query: { uploadId },
    headers: { 'content-type': 'application/xml' },
    body: new TextEncoder().encode(toCompleteMultipartUpload(etags)),
  })
  if (!response.ok) await client.fail('completeMultipartUpload', key, response)
  // S3 may answer 200 and still fail: the error then comes in the body (it keeps the
  // connection alive with whitespace while it assembles the parts).
  const answer = await response.text()
  if (readErrorFields(answer) !== undefined) {
    throw toS3DriverError('completeMultipartUpload', key, toS3Error(response, answer))
  }
}

/**
 * Best effort: an upload that cannot be aborted stays invisible, and the bucket's lifecycle
 * rule for incomplete multipart uploads (AbortIncompleteMultipartUpload) removes its parts.
 */
async function abortUpload(upload: S3Upload, uploadId: string): Promise<void> {
  const { client, key, objectKey } = upload
  try {
    const response = await client.send('abortMultipartUpload', key, {
      method: 'DELETE',
      objectKey,
      query: { uploadId },
    })
    await drain(response)
  } catch {
    // Nothing more to do; the error that made us abort is the one worth reporting.
  }
}
