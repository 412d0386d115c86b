/**
 * The S3 BlobStore against a real S3-compatible server (s3rver on loopback, mended to answer as
 * S3 where it differs; see test/support/s3-server.ts): the shared contract plus multipart,
 * failure, abort, range, paging, signing and error wording.
 */
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createS3Store, type S3StoreOptions } from '../../src/store/s3.ts'
import type { BlobStore } from '../../src/store/types.ts'
import {
  S3RVER_CREDENTIALS,
  s3ErrorAnswer,
  startS3TestServer,
  type RecordedS3Request,
  type S3TestServer,
} from '../support/s3-server.ts'
import {
  describeStoreContract,
  expectSameBytes,
  failingStreamOf,
  listKeys,
  makeBytes,
  readBytes,
  splitBytes,
  streamOf,
  trackedStreamOf,
} from './contract.ts'

const MIB = 1024 * 1024
/** S3's minimum part size, so multipart paths run with small test data. */
const PART = 5 * MIB

let s3: S3TestServer

beforeAll(async () => {
  s3 = await startS3TestServer()
})

afterAll(async () => {
  await s3?.close()
})

function options(overrides: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    credentials: S3RVER_CREDENTIALS,
    fetch: s3.fetch,
    partSize: PART,
    ...overrides,
  }
}

describeStoreContract('s3', async () => ({
  store: createS3Store(options()),
  cleanup: () => s3.empty(),
}))

describeStoreContract('s3 with a prefix', async () => ({
  store: createS3Store(options({ prefix: 'results/' })),
  cleanup: () => s3.empty(),
}))

const isPart = (r: RecordedS3Request) => r.method === 'PUT' && r.query.has('partNumber')
const isAbort = (r: RecordedS3Request) => r.method === 'DELETE' && r.query.has('uploadId')
const isSinglePut = (r: RecordedS3Request) => r.method === 'PUT' && r.query.size === 0

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

async function expectNothingLeft(store: BlobStore, key: string): Promise<void> {
  expect(await store.get(key)).toBeNull()
  expect(await store.head(key)).toBeNull()
  expect(await s3.listAllKeys()).toEqual([])
  expect(await s3.listPendingUploads()).toEqual([])
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  return typeof address === 'object' && address ? address.port : 1
}

describe('s3 store', () => {
  const fresh = async (overrides: Partial<S3StoreOptions> = {}) => {
    await s3.empty()
    return createS3Store(options(overrides))
  }

  it('is named s3 and locates keys as s3://<bucket>/<prefix><key>', () => {
    expect(createS3Store(options()).name).toBe('s3')
    expect(createS3Store(options()).locate('q-1.csv')).toBe('s3://results-bucket/q-1.csv')
    expect(createS3Store(options({ prefix: 'kylin/results/' })).locate('q-1.csv')).toBe(
      's3://results-bucket/kylin/results/q-1.csv',
    )
  })

  it.each([
    [{ partSize: PART - 1 }, /partSize must be an integer from 5242880/],
    [{ partSize: PART + 0.5 }, /partSize/],
    [{ bucket: '' }, /bucket must be a non-empty name/],
    [{ credentials: { accessKeyId: 'id', secretAccessKey: '' } }, /secretAccessKey/],
    [{ endpoint: 'minio:9000' }, /endpoint must be an http/],
    [{ endpoint: 'ftp://minio' }, /endpoint must be an http/],
    [{ prefix: '/results/' }, /prefix must/],
    [{ prefix: 'a/../b/' }, /prefix must/],
    [{ maxKeys: 0 }, /maxKeys/],
  ])('refuses the options %j', (overrides, message) => {
    expect(() => createS3Store(options(overrides as Partial<S3StoreOptions>))).toThrow(message)
  })

  it('streams 13 MiB as a multipart upload of equal 5 MiB parts, byte-exact', async () => {
    const store = await fresh()
    const bytes = makeBytes(13 * MIB, 13)
    expect(await store.put('big.csv', streamOf(splitBytes(bytes, [100_003])))).toEqual({
      size: 13 * MIB,
    })
    expect(s3.requests.filter(isSinglePut)).toHaveLength(0)
    expect(s3.requests.filter(isPart).map((r) => r.bodyBytes)).toEqual([PART, PART, 3 * MIB])
    expect(s3.requests.filter((r) => r.method === 'POST').map((r) => [...r.query.keys()])).toEqual([
      ['uploads'],
      ['uploadId'],
    ])
    expect(await s3.listPendingUploads()).toEqual([])
    expect(await store.head('big.csv')).toEqual({ size: 13 * MIB })
    const stored = await readBytes((await store.get('big.csv'))!.body)
    expect(sha256(stored)).toBe(sha256(bytes))
    expectSameBytes(stored, bytes)
  })

  it('reads ranges of a multipart object, across a part boundary and to the end', async () => {
    const store = await fresh()
    const bytes = makeBytes(2 * PART + 10, 3)
    await store.put('parts.csv', streamOf([bytes]))
    const across = await store.get('parts.csv', { start: PART - 10, end: PART + 9 })
    expect(across?.size).toBe(bytes.byteLength)
    expectSameBytes(await readBytes(across!.body), bytes.slice(PART - 10, PART + 10))
    const tail = await store.get('parts.csv', { start: 2 * PART, end: Number.POSITIVE_INFINITY })
    expectSameBytes(await readBytes(tail!.body), bytes.slice(2 * PART))
    const ranges = s3.requests.filter((r) => r.method === 'GET').length
    expect(ranges).toBe(2)
  })

  it('keeps one part in flight while the next fills, in at most two buffers', async () => {
    let inFlight = 0
    let mostInFlight = 0
    const buffers = new Set<ArrayBufferLike>()
    const tracking: typeof fetch = async (input, init) => {
      const isPartRequest = new URL(String(input)).searchParams.has('partNumber')
      if (!isPartRequest) return s3.fetch(input, init)
      if (init?.body instanceof Uint8Array) buffers.add(init.body.buffer)
      mostInFlight = Math.max(mostInFlight, ++inFlight)
      try {
        return await s3.fetch(input, init)
      } finally {
        inFlight--
      }
    }
    const store = await fresh({ fetch: tracking })
    let pulledWhileSending = 0
    const bytes = makeBytes(4 * PART + 1, 4)
    const chunks = splitBytes(bytes, [65_536])
    let index = 0
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          // As from a socket: chunks trickle in, far slower than a part is hashed.
          await new Promise((resolve) => setTimeout(resolve, 1))
          if (inFlight > 0) pulledWhileSending++
          const chunk = chunks[index++]
          if (chunk) controller.enqueue(chunk)
          else controller.close()
        },
      },
      { highWaterMark: 0 },
    )
    await store.put('pipelined.csv', body)
    expect(mostInFlight).toBe(1)
    // Reading the result went on while parts were being stored.
    expect(pulledWhileSending).toBeGreaterThan(0)
    expect(buffers.size).toBe(2)
    expectSameBytes(await readBytes((await store.get('pipelined.csv'))!.body), bytes)
  })

  it('stores exactly one part with a single PutObject, and a small blob as just its bytes', async () => {
    const store = await fresh()
    await store.put('one-part', streamOf(splitBytes(makeBytes(PART, 1), [65_536])))
    await store.put('small', streamOf([new TextEncoder().encode('a,b\n')]))
    expect(s3.requests.filter(isPart)).toHaveLength(0)
    expect(s3.requests.filter(isSinglePut).map((r) => r.bodyBytes)).toEqual([PART, 4])
  })

  it('aborts the multipart upload when a part fails: nothing stored, nothing pending', async () => {
    const store = await fresh({
      maxRetries: 0,
      fetch: s3.fetchWith((request) =>
        isPart(request) && request.query.get('partNumber') === '2'
          ? s3ErrorAnswer(500, 'InternalError', 'We encountered an internal error.')
          : undefined,
      ),
    })
    // Part 3 waits for part 2, so its failure stops the reading of the rest of the body.
    const body = trackedStreamOf(splitBytes(makeBytes(4 * PART, 6), [100_003]))
    const put = store.put('flaky.csv', body.stream)
    await expect(put).rejects.toThrow(
      '[s3] uploadPart failed for flaky.csv: InternalError: We encountered an internal error. (HTTP 500)',
    )
    expect(body.cancelled()).toBe(true)
    const upload = s3.requests.find((r) => r.query.has('uploads'))
    expect(upload).toBeDefined()
    expect(s3.requests.filter(isAbort)).toHaveLength(1)
    await expectNothingLeft(store, 'flaky.csv')
  })

  it('aborts the multipart upload when the body fails after the first part', async () => {
    const store = await fresh()
    const chunks = splitBytes(makeBytes(PART + 1000, 2), [100_003])
    const put = store.put('broken.csv', failingStreamOf(chunks, new Error('upstream went away')))
    await expect(put).rejects.toThrow('upstream went away')
    expect(s3.requests.filter(isPart)).toHaveLength(1)
    expect(s3.requests.filter(isAbort)).toHaveLength(1)
    await expectNothingLeft(store, 'broken.csv')
  })

  it('notices an abort while a part is in flight: rejects with the reason, sends no more parts', async () => {
    const abort = new AbortController()
    const reason = new Error('client gave up')
    const store = await fresh({
      fetch: s3.fetchWith((request) => {
        if (isPart(request)) abort.abort(reason)
        return undefined
      }),
    })
    const body = trackedStreamOf(splitBytes(makeBytes(3 * PART, 8), [100_003]))
    const put = store.put('aborted.csv', body.stream, { signal: abort.signal })
    await expect(put).rejects.toBe(reason)
    expect(s3.requests.filter(isPart)).toHaveLength(1)
    expect(s3.requests.filter(isAbort)).toHaveLength(1)
    expect(body.cancelled()).toBe(true)
    await expectNothingLeft(store, 'aborted.csv')
  })

  it('retries a throttled part and a failed put, then succeeds', async () => {
    const refused = new Set<string>()
    const store = await fresh({
      fetch: s3.fetchWith((request) => {
        const what = `${request.method} ${request.query.get('partNumber') ?? request.path}`
        if (request.method !== 'PUT' || refused.has(what)) return undefined
        refused.add(what)
        return s3ErrorAnswer(503, 'SlowDown', 'Please reduce your request rate.')
      }),
    })
    const bytes = makeBytes(PART + 7, 9)
    await store.put('throttled.csv', streamOf([bytes]))
    await store.put('small.csv', streamOf([bytes.slice(0, 10)]))
    expect(s3.requests.filter(isPart).map((r) => r.query.get('partNumber'))).toEqual([
      '1',
      '1',
      '2',
      '2',
    ])
    expect(s3.requests.filter(isSinglePut)).toHaveLength(2)
    expectSameBytes(await readBytes((await store.get('throttled.csv'))!.body), bytes)
  })

  it('gives up after maxRetries with the last answer', async () => {
    const store = await fresh({
      maxRetries: 2,
      fetch: s3.fetchWith((request) =>
        s3ErrorAnswer(503, 'SlowDown', 'Please reduce your request rate.', request.method),
      ),
    })
    await expect(store.head('any')).rejects.toThrow('[s3] head failed for any: HTTP 503')
    expect(s3.requests).toHaveLength(3)
  })

  it('refuses bytes other than the range asked for (raw s3rver answers bytes=0-0 with all)', async () => {
    await s3.empty()
    const raw = createS3Store(options({ fetch: (input, init) => fetch(input, init) }))
    await raw.put('whole', streamOf([makeBytes(1000, 5)]))
    await expect(raw.get('whole', { start: 0, end: 0 })).rejects.toThrow(
      '[s3] get failed for whole: asked for bytes=0-0, got "bytes 0-999/1000"',
    )
  })

  it('lists across pages with continuation tokens, strips the prefix and skips nested keys', async () => {
    await s3.empty()
    const results = createS3Store(options({ prefix: 'results/', maxKeys: 2 }))
    const other = createS3Store(options({ prefix: 'other/' }))
    const root = createS3Store(options())
    const encode = (value: string) => new TextEncoder().encode(value)
    const keys = ['q-1.csv', 'q-2.csv', 'q-3.csv', 'q-4.json', 'same']
    for (const key of keys) await results.put(key, streamOf([encode(`results ${key}`)]))
    await other.put('same', streamOf([encode('other')]))
    await s3.fetch(`${s3.endpoint}/${s3.bucket}/results/nested/not-a-key`, {
      method: 'PUT',
      body: encode('x'),
    })
    await root.put('top-level', streamOf([encode('y')]))
    s3.requests.length = 0

    expect(await listKeys(results)).toEqual(keys)
    const pages = s3.requests.filter((r) => r.query.get('list-type') === '2')
    expect(pages.length).toBeGreaterThanOrEqual(3)
    expect(pages.map((r) => r.query.get('max-keys'))).toEqual(pages.map(() => '2'))
    expect(pages[0]!.query.has('continuation-token')).toBe(false)
    expect(pages.slice(1).every((r) => r.query.has('continuation-token'))).toBe(true)
    expect(await listKeys(other)).toEqual(['same'])
    expect(await listKeys(root)).toEqual(['top-level'])
    expect(await readBytes((await other.get('same'))!.body)).toEqual(encode('other'))
  })

  it('sends the session token of temporary credentials, signed', async () => {
    const seen: Headers[] = []
    const store = await fresh({
      credentials: { ...S3RVER_CREDENTIALS, sessionToken: 'session-token-1' },
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers))
        return s3.fetch(input, init)
      },
    })
    await store.put('token', streamOf([new Uint8Array([1])]))
    expect(seen[0]?.get('x-amz-security-token')).toBe('session-token-1')
    expect(seen[0]?.get('authorization')).toMatch(/SignedHeaders=[^,]*x-amz-security-token/)
  })

  it('says clearly when the secret is wrong, and never says the secret', async () => {
    await s3.empty()
    const secret = 'not-the-secret-7f3a'
    const store = createS3Store(
      options({ credentials: { accessKeyId: 'S3RVER', secretAccessKey: secret } }),
    )
    const put = store.put('denied.csv', streamOf([new Uint8Array([1, 2, 3])]))
    await expect(put).rejects.toThrow(
      '[s3] put failed for denied.csv: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method. (HTTP 403)',
    )
    await expect(store.head('denied.csv')).rejects.toThrow(
      '[s3] head failed for denied.csv: HTTP 403: access denied (wrong credentials, or not allowed on this bucket)',
    )
    const listed = listKeys(store)
    await expect(listed).rejects.toThrow(
      '[s3] list failed for s3://results-bucket/: SignatureDoesNotMatch',
    )
    for (const attempt of [put, listed]) {
      await attempt.catch((err: Error) => expect(err.message).not.toContain(secret))
    }
    expect(await s3.listAllKeys()).toEqual([])
  })

  it('says clearly when the access key is unknown (s3rver checks that itself)', async () => {
    const store = await fresh({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'x' } })
    await expect(store.get('k')).rejects.toThrow(
      '[s3] get failed for k: InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records. (HTTP 403)',
    )
  })

  it('refuses a part damaged on the way: the payload hash is signed', async () => {
    const store = await fresh({
      maxRetries: 0,
      fetch: (input, init) => {
        const body = init?.body
        if (!(body instanceof Uint8Array) || body.byteLength === 0) return s3.fetch(input, init)
        const damaged = new Uint8Array(body)
        damaged[0] = damaged[0]! ^ 0xff
        return s3.fetch(input, { ...init, body: damaged })
      },
    })
    await expect(store.put('damaged', streamOf([makeBytes(100, 1)]))).rejects.toThrow(
      '[s3] put failed for damaged: XAmzContentSHA256Mismatch',
    )
    expect(await s3.listAllKeys()).toEqual([])
  })

  it('reports a missing bucket as an error, not as a missing key', async () => {
    const store = createS3Store(options({ bucket: 'no-such-bucket' }))
    await expect(store.get('k')).rejects.toThrow(
      '[s3] get failed for k: NoSuchBucket: The specified bucket does not exist (HTTP 404)',
    )
  })

  it('names the network failure when the endpoint is unreachable', async () => {
    const store = createS3Store(
      options({
        endpoint: `http://127.0.0.1:${await closedPort()}`,
        fetch: (input, init) => fetch(input, init),
        maxRetries: 0,
      }),
    )
    await expect(store.head('k')).rejects.toThrow(
      /^\[s3\] head failed for k: fetch failed \(.*ECONNREFUSED/,
    )
  })
})
