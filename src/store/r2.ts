/**
 * BlobStore on a Cloudflare R2 bucket binding: small blobs in one put, larger ones as multipart.
 * Portable (Web APIs only, no node:*): it runs inside workerd, where an isolate has 128 MB.
 */
import type { R2Bucket } from '@cloudflare/workers-types'
import type { BlobInfo, BlobObject, BlobStore, ByteRange, PutOptions } from './types.ts'
import { isValidKey } from './types.ts'
import { assertKey, checkPut, emptyStream, readChunks, toDriverError } from './streams.ts'
import { DEFAULT_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, fillParts, tooManyParts } from './parts.ts'

export interface R2StoreOptions {
  /** The R2 binding (`env.RESULTS` in a Worker, `await mf.getR2Bucket(…)` from Node). */
  bucket: R2Bucket
  /** The bucket's name, only used by `locate`. */
  bucketName: string
  /** Prepended to every key, e.g. `results/`, so the store can share a bucket. Default ''. */
  prefix?: string
  /** Bytes per multipart part and size of the one buffer a put holds. Default 8 MiB, min 5 MiB. */
  partSize?: number
}

type R2MultipartUpload = Awaited<ReturnType<R2Bucket['createMultipartUpload']>>
type R2UploadedPart = Awaited<ReturnType<R2MultipartUpload['uploadPart']>>
type R2ObjectBody = NonNullable<Awaited<ReturnType<R2Bucket['get']>>>

const DRIVER = 'r2'

const driverError = (action: string, key: string, cause: unknown) =>
  toDriverError(DRIVER, action, key, cause)
/** R2 keys are at most 1024 bytes; store keys at most 200 characters (all ASCII). */
const MAX_PREFIX_BYTES = 1024 - 200

export function createR2Store(options: R2StoreOptions): BlobStore {
  const { bucket, bucketName } = options
  const prefix = options.prefix ?? ''
  const partSize = options.partSize ?? DEFAULT_PART_SIZE
  if (typeof bucketName !== 'string' || bucketName === '') {
    throw new Error(`[${DRIVER}] bucketName must be a non-empty string`)
  }
  if (
    typeof prefix !== 'string' ||
    new TextEncoder().encode(prefix).byteLength > MAX_PREFIX_BYTES
  ) {
    throw new Error(`[${DRIVER}] prefix must be a string of at most ${MAX_PREFIX_BYTES} bytes`)
  }
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE) {
    throw new Error(
      `[${DRIVER}] partSize must be an integer of at least ${MIN_PART_SIZE} bytes, got ${String(partSize)}`,
    )
  }

  function pathOf(key: string): string {
    assertKey(key)
    return prefix + key
  }

  async function head(key: string, path: string): Promise<BlobInfo | null> {
    const object = await call('head', key, () => bucket.head(path))
    return object ? { size: object.size } : null
  }

  return {
    name: DRIVER,

    async put(key: string, body: ReadableStream<Uint8Array>, putOptions?: PutOptions) {
      const signal = putOptions?.signal
      const path = checkPut(body, signal, () => pathOf(key))

      // R2 takes a stream only when its length is known up front (FixedLengthStream), and a
      // result's length is not: so the body is cut into parts held in ONE buffer, reused.
      let upload: R2MultipartUpload | undefined
      const parts: R2UploadedPart[] = []

      const uploadPart = async (part: Uint8Array<ArrayBuffer>): Promise<void> => {
        signal?.throwIfAborted()
        if (parts.length >= MAX_PARTS) throw tooManyParts(DRIVER, key, partSize)
        upload ??= await call('createMultipartUpload', key, () =>
          bucket.createMultipartUpload(path),
        )
        const current = upload
        const partNumber = parts.length + 1
        // Awaited before the buffer is refilled: once the part is stored, the bytes may change.
        parts.push(await call('uploadPart', key, () => current.uploadPart(partNumber, part)))
      }

      try {
        const { size, rest } = await fillParts(
          readChunks(body, signal, DRIVER),
          partSize,
          uploadPart,
        )
        signal?.throwIfAborted()
        if (!upload) {
          await call('put', key, () => bucket.put(path, rest))
        } else {
          await uploadPart(rest)
          signal?.throwIfAborted()
          const current = upload
          await call('completeMultipartUpload', key, () => current.complete(parts))
        }
        // An abort that arrives after this point is too late: the blob is already visible.
        return { size }
      } catch (err) {
        // Parts of an aborted upload are dropped and were never visible; if abort fails, R2's
        // lifecycle rule for incomplete uploads (7 days by default) removes them.
        if (upload) await upload.abort().catch(() => {})
        throw err
      }
    },

    async get(key: string, range?: ByteRange): Promise<BlobObject | null> {
      const path = pathOf(key)
      if (!range) {
        const object = await call('get', key, () => bucket.get(path))
        return object ? toBlobObject(object) : null
      }
      const start = Math.max(0, range.start)
      let refusal: { error: unknown } | undefined
      if (range.end >= start) {
        try {
          // R2 clamps a length that runs past the end, as the contract clamps `end`.
          const object = await bucket.get(path, { range: toR2Range(start, range.end) })
          return object ? toBlobObject(object) : null
        } catch (error) {
          refusal = { error }
        }
      }
      // R2 throws, rather than returning nothing, for a range starting at or past the end (so
      // for any range of an empty blob); the contract wants the size and an empty body. The
      // head is only paid on that rare path, not on every ranged read.
      const info = await head(key, path)
      if (!info) return null
      if (refusal && start < info.size) throw driverError('get', key, refusal.error)
      return { size: info.size, body: emptyStream() }
    },

    async head(key: string): Promise<BlobInfo | null> {
      return head(key, pathOf(key))
    },

    async delete(key: string): Promise<void> {
      const path = pathOf(key)
      // R2's delete of a missing key succeeds, as the contract wants.
      await call('delete', key, () => bucket.delete(path))
    },

    async *list(): AsyncIterable<string> {
      let cursor: string | undefined
      do {
        // The delimiter keeps R2 from walking "subfolders" below the prefix: a key with a `/`
        // is never a valid store key anyway.
        const page = await call('list', `r2://${bucketName}/${prefix}`, () =>
          bucket.list({ prefix, delimiter: '/', cursor }),
        )
        for (const object of page.objects) {
          const key = object.key.slice(prefix.length)
          if (object.key.startsWith(prefix) && isValidKey(key)) yield key
        }
        cursor = page.truncated ? page.cursor : undefined
      } while (cursor !== undefined)
    },

    locate(key: string): string {
      return `r2://${bucketName}/${pathOf(key)}`
    },
  }
}

function toR2Range(start: number, end: number): { offset: number; length?: number } {
  // An open-ended range (e.g. end = Infinity) is sent without a length: R2 reads to the end.
  return Number.isSafeInteger(end) ? { offset: start, length: end - start + 1 } : { offset: start }
}

function toBlobObject(object: R2ObjectBody): BlobObject {
  // workers-types declares its own ReadableStream; at runtime it is the platform's Web stream.
  return { size: object.size, body: object.body as unknown as ReadableStream<Uint8Array> }
}

/** Runs one R2 call, turning its failure into a driver error that names the operation and key. */
async function call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    throw driverError(operation, key, err)
  }
}
