/**
 * BlobStore on an S3-compatible bucket (AWS S3, MinIO, Ceph, R2's S3 API, …) over plain fetch:
 * reads, ranges, listing and deletes here; puts in s3-upload.ts. Portable: fetch + WebCrypto.
 */
import type { BlobInfo, BlobObject, BlobStore, ByteRange, PutOptions } from './types.ts'
import { isValidKey } from './types.ts'
import { assertKey, checkPut, emptyStream } from './streams.ts'
import {
  DRIVER,
  bodyOf,
  createS3Client,
  drain,
  readContentLength,
  readS3Error,
  toS3DriverError,
} from './s3-client.ts'
import { toS3Settings, type S3StoreOptions } from './s3-options.ts'
import { uploadBody } from './s3-upload.ts'
import { readListPage } from './s3-xml.ts'

export type { S3Credentials } from './s3-client.ts'
export type { S3StoreOptions } from './s3-options.ts'
export { S3ResponseError } from './s3-client.ts'

export function createS3Store(options: S3StoreOptions): BlobStore {
  const { bucket, prefix, partSize, maxKeys, ...settings } = toS3Settings(options)
  const client = createS3Client(settings)
  const { send, fail } = client

  function keyOf(key: string): string {
    assertKey(key)
    return prefix + key
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
    throw toS3DriverError(action, key, error)
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
        throw toS3DriverError('get', key, new Error(`asked for ${asked}, got "${answered}"`))
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
      throw toS3DriverError('get', key, new Error(`asked for ${asked}, got the whole object`))
    }
    if (response.status === 416) {
      // S3 refuses a range starting at or past the end (so any range of an empty object); the
      // contract wants the size and an empty body. The head is paid only on this rare path.
      const refusal = await readS3Error(response)
      const info = await head(key, objectKey)
      if (!info) return null
      if (start < info.size) throw toS3DriverError('get', key, refusal)
      return { size: info.size, body: emptyStream() }
    }
    return missingOrFail('get', key, response)
  }

  return {
    name: DRIVER,

    async put(key: string, body: ReadableStream<Uint8Array>, putOptions?: PutOptions) {
      const signal = putOptions?.signal
      const objectKey = checkPut(body, signal, () => keyOf(key))
      return uploadBody({ client, key, objectKey, partSize }, body, signal)
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
        const page = readListPage(await response.text())
        for (const fullKey of page.keys) {
          const key = fullKey.slice(prefix.length)
          if (fullKey.startsWith(prefix) && isValidKey(key)) yield key
        }
        token = page.truncated ? page.nextToken : undefined
        if (page.truncated && !token) {
          throw toS3DriverError(
            'list',
            where,
            new Error('a truncated page has no continuation token'),
          )
        }
      } while (token !== undefined)
    },

    locate(key: string): string {
      return `s3://${bucket}/${keyOf(key)}`
    },
  }
}
