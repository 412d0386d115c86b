/**
 * GET /readyz through app.request: any upstream HTTP answer and a writable store are ready;
 * a network failure, a hang or a failing store are not. Results are cached briefly.
 */
import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { createReadinessCheck, READINESS_PROBE_KEY } from '../../src/ops/readiness.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import type { BlobStore } from '../../src/store/types.ts'
import { makeTestDeps } from '../support/test-deps.ts'

interface Report {
  status: string
  checks: Record<string, { ok: boolean; status?: number; error?: string }>
}

function refused(): Promise<Response> {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7070'), {
    code: 'ECONNREFUSED',
  })
  return Promise.reject(new TypeError('fetch failed', { cause }))
}

async function readyz(deps: ReturnType<typeof makeTestDeps>) {
  const response = await createApp(deps).request('/readyz')
  return { status: response.status, body: (await response.json()) as Report }
}

describe('GET /readyz', () => {
  it('is ready when the upstream answers at all and the store takes a write', async () => {
    const deps = makeTestDeps()
    const asked: Request[] = []
    deps.fetch = async (input, init) => {
      asked.push(new Request(input, init))
      return new Response('<html>401</html>', { status: 401 })
    }
    const { status, body } = await readyz(deps)
    expect(status).toBe(200)
    expect(body.status).toBe('ready')
    expect(body.checks.upstream).toMatchObject({ ok: true, status: 401 })
    expect(body.checks.store).toMatchObject({ ok: true })
    expect(asked.map((r) => [r.method, r.url, r.headers.get('authorization')])).toEqual([
      ['GET', 'http://kylin.test:7070/kylin/api/user/authentication', null],
    ])
    const keys: string[] = []
    for await (const key of deps.store.list()) keys.push(key)
    expect(keys).not.toContain(READINESS_PROBE_KEY)
  })

  it('answers 503 naming the upstream when it cannot be reached', async () => {
    const deps = makeTestDeps()
    deps.fetch = refused
    const { status, body } = await readyz(deps)
    expect(status).toBe(503)
    expect(body.status).toBe('not ready')
    expect(body.checks.upstream).toMatchObject({ ok: false, error: 'ECONNREFUSED' })
    expect(body.checks.store?.ok).toBe(true)
  })

  it('never shows credentials that sit in the upstream URL', async () => {
    const deps = makeTestDeps()
    deps.fetch = () =>
      Promise.reject(
        new TypeError(
          'Request cannot be constructed from a URL that includes credentials: http://ops:p@ss@kylin:7070/kylin/api/user/authentication',
        ),
      )
    const { status, body } = await readyz(deps)
    expect(status).toBe(503)
    expect(body.checks.upstream?.error).toBe(
      'Request cannot be constructed from a URL that includes credentials: http://[redacted]@kylin:7070/kylin/api/user/authentication',
    )
  })

  it('answers 503 naming the store when it refuses a write', async () => {
    const deps = makeTestDeps()
    deps.fetch = async () => new Response(null, { status: 401 })
    const memory = createMemoryStore({ maxBytes: 1024 })
    const refuse = async () => {
      throw Object.assign(new Error('read-only file system'), { code: 'EROFS' })
    }
    deps.store = { ...memory, put: refuse, probe: refuse } satisfies BlobStore
    const { status, body } = await readyz(deps)
    expect(status).toBe(503)
    expect(body.checks.upstream?.ok).toBe(true)
    expect(body.checks.store).toMatchObject({ ok: false, error: 'EROFS' })
  })

  it('asks a store that can probe itself, so a full memory store keeps every result', async () => {
    const deps = makeTestDeps()
    deps.fetch = async () => new Response(null, { status: 401 })
    deps.store = createMemoryStore({ maxBytes: 8 })
    const full = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(8))
        controller.close()
      },
    })
    await deps.store.put('result.csv', full)
    const { status, body } = await readyz(deps)
    expect(status).toBe(200)
    expect(body.checks.store).toMatchObject({ ok: true })
    expect(await deps.store.head('result.csv')).toEqual({ size: 8 })
  })

  it('writes and deletes a probe blob in a store that cannot probe itself', async () => {
    const deps = makeTestDeps()
    deps.fetch = async () => new Response(null, { status: 401 })
    const memory = createMemoryStore({ maxBytes: 1024 })
    const written: string[] = []
    deps.store = {
      ...memory,
      probe: undefined,
      put: (key, body, options) => {
        written.push(key)
        return memory.put(key, body, options)
      },
    } satisfies BlobStore
    expect((await readyz(deps)).status).toBe(200)
    expect(written).toEqual([READINESS_PROBE_KEY])
    expect(await memory.head(READINESS_PROBE_KEY)).toBeNull()
  })

  it('gives up on an upstream that does not answer', async () => {
    const deps = makeTestDeps()
    const readiness = createReadinessCheck({
      upstreamUrl: 'http://kylin.test:7070',
      fetch: () => new Promise<Response>(() => {}),
      store: deps.store,
      now: deps.now,
      timeoutMs: 50,
    })
    const report = await readiness.check()
    expect(report.ready).toBe(false)
    expect(report.checks.upstream).toMatchObject({ ok: false, error: 'no answer within 50 ms' })
  })

  it('reuses a report for cacheMs, so a flood of probes asks the upstream once', async () => {
    const deps = makeTestDeps()
    let calls = 0
    const readiness = createReadinessCheck({
      upstreamUrl: 'http://kylin.test:7070',
      fetch: async () => {
        calls++
        return calls === 1 ? refused() : new Response(null, { status: 401 })
      },
      store: deps.store,
      now: deps.now,
      cacheMs: 1000,
    })
    const flood = await Promise.all(Array.from({ length: 20 }, () => readiness.check()))
    expect(calls).toBe(1)
    expect(flood.every((report) => !report.ready)).toBe(true)
    deps.advance(1000)
    expect((await readiness.check()).ready).toBe(true)
    expect(calls).toBe(2)
  })

  it('checks every upstream of KYLIN_UPSTREAMS; only the default decides', async () => {
    const deps = makeTestDeps()
    const asked: string[] = []
    const check = (down: string) =>
      createReadinessCheck({
        upstreamUrl: 'http://kylin4:7070',
        upstreams: [
          { name: 'kylin4:7070', url: 'http://kylin4:7070' },
          { name: 'kylin5:7070', url: 'http://kylin5:7070' },
        ],
        fetch: async (input) => {
          const url = String(input)
          asked.push(new URL(url).host)
          return url.startsWith(down) ? refused() : new Response(null, { status: 401 })
        },
        store: deps.store,
        now: deps.now,
      }).check()
    const otherDown = await check('http://kylin5:7070')
    expect(asked.sort()).toEqual(['kylin4:7070', 'kylin5:7070'])
    expect(otherDown.ready).toBe(true)
    expect(otherDown.checks.upstreams).toEqual({
      'kylin4:7070': expect.objectContaining({ ok: true, status: 401, default: true }),
      'kylin5:7070': expect.objectContaining({ ok: false, error: 'ECONNREFUSED', default: false }),
    })
    const defaultDown = await check('http://kylin4:7070')
    expect(defaultDown.ready).toBe(false)
    expect(defaultDown.checks.upstream).toMatchObject({ ok: false })
  })
})
