/**
 * The R2 BlobStore against a real local R2 bucket (Miniflare, reached from Node through its
 * binding proxy): the shared contract plus multipart, failure, prefix and locate behaviour.
 */
import type { R2Bucket } from '@cloudflare/workers-types'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createR2Store } from '../../src/store/r2.ts'
import {
  describeStoreContract,
  expectAbsent,
  expectSameBytes,
  failingStreamOf,
  listKeys,
  makeBytes,
  readBytes,
  splitBytes,
  streamOf,
  trackedStreamOf,
} from './contract.ts'

type R2MultipartUpload = Awaited<ReturnType<R2Bucket['createMultipartUpload']>>

const MIB = 1024 * 1024
/** R2's minimum part size, so multipart paths run with small test data. */
const PART = 5 * MIB
const BUCKET_NAME = 'results-bucket'

let mf: Miniflare
let bucket: R2Bucket

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    r2Buckets: ['RESULTS'],
    cf: false,
    compatibilityDate: '2026-04-20',
  })
  // Miniflare's proxy type comes from its own bundled workers-types; same API at runtime.
  bucket = (await mf.getR2Bucket('RESULTS')) as unknown as R2Bucket
})

afterAll(async () => {
  await mf?.dispose()
})

/** Deletes every object, so each test starts from an empty bucket. */
async function emptyBucket(): Promise<void> {
  for (;;) {
    const page = await bucket.list()
    if (page.objects.length === 0) return
    await bucket.delete(page.objects.map((object) => object.key))
  }
}

describeStoreContract('r2', async () => ({
  store: createR2Store({ bucket, bucketName: BUCKET_NAME, partSize: PART }),
  cleanup: emptyBucket,
}))

describeStoreContract('r2 with a prefix', async () => ({
  store: createR2Store({ bucket, bucketName: BUCKET_NAME, prefix: 'results/', partSize: PART }),
  cleanup: emptyBucket,
}))

interface UploadLog {
  key: string
  uploadId: string
  partSizes: number[]
  /** The ArrayBuffer under each part: one shared buffer means one part buffer per put. */
  partBuffers: ArrayBufferLike[]
  completed: boolean
  aborted: boolean
}

interface BucketLog {
  puts: number
  uploads: UploadLog[]
}

interface RecordingHooks {
  /** Runs before a part is handed to R2; throwing makes that uploadPart fail. */
  beforePart?: (partNumber: number) => void
  /** Overrides list's page size, to exercise pagination without thousands of objects. */
  listLimit?: number
}

/** Wraps the real bucket, recording puts and multipart uploads (the Miniflare proxy cannot be spied on). */
function recordingBucket(
  real: R2Bucket,
  hooks: RecordingHooks = {},
): { bucket: R2Bucket; log: BucketLog } {
  const log: BucketLog = { puts: 0, uploads: [] }
  const wrapUpload = (upload: R2MultipartUpload): R2MultipartUpload => {
    const entry: UploadLog = {
      key: upload.key,
      uploadId: upload.uploadId,
      partSizes: [],
      partBuffers: [],
      completed: false,
      aborted: false,
    }
    log.uploads.push(entry)
    return {
      key: upload.key,
      uploadId: upload.uploadId,
      async uploadPart(partNumber, value, options) {
        hooks.beforePart?.(partNumber)
        if (ArrayBuffer.isView(value)) {
          entry.partSizes.push(value.byteLength)
          entry.partBuffers.push(value.buffer)
        }
        return upload.uploadPart(partNumber, value, options)
      },
      async complete(parts) {
        const object = await upload.complete(parts)
        entry.completed = true
        return object
      },
      async abort() {
        entry.aborted = true
        return upload.abort()
      },
    }
  }
  const wrapped = {
    head: (key: string) => real.head(key),
    get: (key: string, options?: Parameters<R2Bucket['get']>[1]) => real.get(key, options),
    put: (key: string, value: Parameters<R2Bucket['put']>[1]) => {
      log.puts++
      return real.put(key, value)
    },
    createMultipartUpload: async (key: string) => wrapUpload(await real.createMultipartUpload(key)),
    resumeMultipartUpload: (key: string, uploadId: string) =>
      real.resumeMultipartUpload(key, uploadId),
    delete: (keys: string | string[]) => real.delete(keys),
    list: (options?: Parameters<R2Bucket['list']>[0]) =>
      real.list(hooks.listLimit ? { ...options, limit: hooks.listLimit } : options),
  }
  return { bucket: wrapped as unknown as R2Bucket, log }
}

describe('r2 store', () => {
  // Every test here leaves the shared bucket empty for the next one.
  const fresh = async (hooks?: RecordingHooks, prefix?: string) => {
    await emptyBucket()
    const recorded = recordingBucket(bucket, hooks)
    const store = createR2Store({
      bucket: recorded.bucket,
      bucketName: BUCKET_NAME,
      partSize: PART,
      ...(prefix === undefined ? {} : { prefix }),
    })
    return { store, log: recorded.log }
  }

  it('is named r2 and locates keys as r2://<bucket>/<prefix><key>', () => {
    const plain = createR2Store({ bucket, bucketName: BUCKET_NAME })
    expect(plain.name).toBe('r2')
    expect(plain.locate('q-1.csv')).toBe('r2://results-bucket/q-1.csv')
    const prefixed = createR2Store({ bucket, bucketName: BUCKET_NAME, prefix: 'results/' })
    expect(prefixed.locate('q-1.csv')).toBe('r2://results-bucket/results/q-1.csv')
  })

  it('refuses a part size below R2 minimum of 5 MiB, or not an integer', () => {
    for (const partSize of [0, PART - 1, PART + 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createR2Store({ bucket, bucketName: BUCKET_NAME, partSize })).toThrow(
        /\[r2\] partSize must be an integer of at least 5242880 bytes/,
      )
    }
  })

  it('refuses an empty bucket name and a prefix too long for an R2 key', () => {
    expect(() => createR2Store({ bucket, bucketName: '' })).toThrow(/bucketName/)
    expect(() => createR2Store({ bucket, bucketName: 'b', prefix: 'p'.repeat(825) })).toThrow(
      /prefix/,
    )
  })

  it('streams 17 MiB of odd-sized chunks as equal 5 MiB parts plus the rest, byte-exact', async () => {
    const { store, log } = await fresh()
    const bytes = makeBytes(17 * MIB, 17)
    expect(await store.put('big.csv', streamOf(splitBytes(bytes, [100_003])))).toEqual({
      size: 17 * MIB,
    })
    expect(log.puts).toBe(0)
    expect(log.uploads).toHaveLength(1)
    const upload = log.uploads[0]!
    expect(upload.partSizes).toEqual([PART, PART, PART, 2 * MIB])
    expect(upload.completed).toBe(true)
    expect(upload.aborted).toBe(false)
    // One buffer, reused for every part: the put never holds more than one part in memory.
    expect(new Set(upload.partBuffers).size).toBe(1)
    expect(upload.partBuffers[0]!.byteLength).toBe(PART)
    expect(await store.head('big.csv')).toEqual({ size: 17 * MIB })
    expectSameBytes(await readBytes((await store.get('big.csv'))!.body), bytes)
    // A range across the first part boundary.
    const ranged = await store.get('big.csv', { start: PART - 10, end: PART + 9 })
    expect(ranged?.size).toBe(17 * MIB)
    expectSameBytes(await readBytes(ranged!.body), bytes.slice(PART - 10, PART + 10))
  })

  it('splits one chunk larger than several parts at exact part boundaries', async () => {
    const { store, log } = await fresh()
    const bytes = makeBytes(2 * PART + 7, 5)
    await store.put('one-chunk', streamOf([bytes]))
    expect(log.uploads[0]?.partSizes).toEqual([PART, PART, 7])
    expectSameBytes(await readBytes((await store.get('one-chunk'))!.body), bytes)
  })

  it('stores a blob of exactly one part with a single put, and two parts as two equal parts', async () => {
    const { store, log } = await fresh()
    await store.put('one-part', streamOf(splitBytes(makeBytes(PART, 1), [65_536])))
    expect(log.puts).toBe(1)
    expect(log.uploads).toHaveLength(0)
    const two = makeBytes(2 * PART, 2)
    await store.put('two-parts', streamOf(splitBytes(two, [65_536])))
    expect(log.uploads[0]?.partSizes).toEqual([PART, PART])
    expectSameBytes(await readBytes((await store.get('two-parts'))!.body), two)
  })

  it('keeps a small blob in a small buffer (a single put of just its bytes)', async () => {
    const { store, log } = await fresh()
    await store.put('small', streamOf([new TextEncoder().encode('a,b\n')]))
    expect(log.puts).toBe(1)
    expect(await store.head('small')).toEqual({ size: 4 })
  })

  it('aborts the multipart upload when the body fails after 2 parts, leaving nothing', async () => {
    const { store, log } = await fresh()
    const failure = new Error('upstream went away')
    const chunks = splitBytes(makeBytes(2 * PART + 300_000, 3), [100_003])
    await expect(store.put('broken.csv', failingStreamOf(chunks, failure))).rejects.toBe(failure)
    const upload = log.uploads[0]!
    expect(upload.partSizes).toEqual([PART, PART])
    expect(upload.completed).toBe(false)
    expect(upload.aborted).toBe(true)
    await expectAbsent(store, 'broken.csv')
    // The upload is gone, not merely incomplete: R2 no longer knows its id.
    await expect(
      bucket.resumeMultipartUpload('broken.csv', upload.uploadId).uploadPart(3, new Uint8Array(1)),
    ).rejects.toThrow(/does not exist/)
  })

  it('leaves the old blob in place when a multipart overwrite fails', async () => {
    const { store } = await fresh()
    await store.put('precious', streamOf([new TextEncoder().encode('original')]))
    const chunks = splitBytes(makeBytes(PART + 1000, 4), [100_003])
    await expect(store.put('precious', failingStreamOf(chunks, new Error('boom')))).rejects.toThrow(
      'boom',
    )
    expect(await readBytes((await store.get('precious'))!.body)).toEqual(
      new TextEncoder().encode('original'),
    )
  })

  it('wraps an R2 failure with the operation and key, cancels the body and aborts the upload', async () => {
    const injected = new Error('R2 is having a day')
    const { store, log } = await fresh({
      beforePart: (partNumber) => {
        if (partNumber === 2) throw injected
      },
    })
    const body = trackedStreamOf(splitBytes(makeBytes(3 * PART, 6), [100_003]))
    const put = store.put('flaky.csv', body.stream)
    await expect(put).rejects.toThrow('[r2] uploadPart failed for flaky.csv: R2 is having a day')
    await expect(put).rejects.toHaveProperty('cause', injected)
    expect(body.cancelled()).toBe(true)
    expect(log.uploads[0]?.aborted).toBe(true)
    await expectAbsent(store, 'flaky.csv')
  })

  it('notices an abort between parts: rejects with the reason, uploads no further part', async () => {
    const abort = new AbortController()
    const reason = new Error('client gave up')
    const { store, log } = await fresh({
      beforePart: (partNumber) => {
        if (partNumber === 1) abort.abort(reason)
      },
    })
    const body = trackedStreamOf(splitBytes(makeBytes(3 * PART, 8), [100_003]))
    const put = store.put('aborted.csv', body.stream, { signal: abort.signal })
    await expect(put).rejects.toBe(reason)
    expect(log.uploads[0]?.partSizes).toEqual([PART])
    expect(log.uploads[0]?.aborted).toBe(true)
    expect(body.cancelled()).toBe(true)
    await expectAbsent(store, 'aborted.csv')
  })

  it('keeps prefixed stores apart, strips the prefix in list and skips nested keys', async () => {
    const { store: results } = await fresh({ listLimit: 2 }, 'results/')
    const other = createR2Store({ bucket, bucketName: BUCKET_NAME, prefix: 'other/' })
    const root = createR2Store({ bucket, bucketName: BUCKET_NAME })
    const encode = (value: string) => new TextEncoder().encode(value)
    for (const key of ['q-1.csv', 'q-2.csv', 'q-3.csv', 'same']) {
      await results.put(key, streamOf([encode(`results ${key}`)]))
    }
    await other.put('same', streamOf([encode('other')]))
    await bucket.put('results/nested/not-a-key', encode('x'))
    await bucket.put('top-level', encode('y'))

    expect(await bucket.head('results/same')).not.toBeNull()
    expect(await readBytes((await results.get('same'))!.body)).toEqual(encode('results same'))
    expect(await readBytes((await other.get('same'))!.body)).toEqual(encode('other'))
    // A page size of 2 makes list follow the cursor across pages.
    expect(await listKeys(results)).toEqual(['q-1.csv', 'q-2.csv', 'q-3.csv', 'same'])
    expect(await listKeys(other)).toEqual(['same'])
    expect(await listKeys(root)).toEqual(['top-level'])
    await results.delete('same')
    expect(await other.head('same')).toEqual({ size: 5 })
  })

  it('runs on a local R2 that enforces equal part sizes, as production R2 does', async () => {
    // Documents why put cuts at exact boundaries: Miniflare refuses unequal non-final parts.
    await emptyBucket()
    const upload = await bucket.createMultipartUpload('unequal')
    const parts = [
      await upload.uploadPart(1, new Uint8Array(PART)),
      await upload.uploadPart(2, new Uint8Array(PART + 1)),
      await upload.uploadPart(3, new Uint8Array(3)),
    ]
    await expect(upload.complete(parts)).rejects.toThrow(/problem with the multipart upload/)
    await upload.abort()
    expect(await bucket.head('unequal')).toBeNull()
  })
})
