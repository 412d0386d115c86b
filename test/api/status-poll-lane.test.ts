/**
 * The status-poll lane answers exactly what the router answers: the same requests against a
 * gateway with the lane and one without (its logger at debug), compared status, headers, bytes.
 */
import { hash } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { createGateway } from '../../src/app.ts'
import type { AppDeps } from '../../src/deps.ts'
import { createSilentLogger } from '../../src/logger.ts'
import { NO_METRICS, type GatewayMetrics } from '../../src/ops/metrics.ts'
import type { Registry } from '../../src/registry/types.ts'
import {
  IDS,
  QUERIES,
  RECORDS,
  USERS,
  UUID,
  V2,
  V4,
  V4_PUBLIC,
  toId,
} from '../support/polled-records.ts'
import { ADMIN, ANALYST, makeTestDeps } from '../support/test-deps.ts'

const BASE = 'http://gateway.test/kylin/api/async_query'
const ACCEPTS = [null, V2, V4, V4_PUBLIC]
const REQUEST_IDS = [null, 'client-id_1=', 'not safe!']

/** Counts identity look-ups, and the registry reads that had to wait (`get`). */
function counting(registry: Registry) {
  const counts = { lookups: 0, misses: 0, gets: 0 }
  const metrics: GatewayMetrics = {
    ...NO_METRICS,
    countIdentityLookup: () => void counts.lookups++,
    countIdentityMiss: () => void counts.misses++,
  }
  const counted: Registry = {
    ...registry,
    get: (id) => {
      counts.gets++
      return registry.get(id)
    },
  }
  return { counts, metrics, registry: counted }
}

let withLane: ReturnType<typeof counting> & { app: ReturnType<typeof createGateway>['app'] }
let router: ReturnType<typeof counting> & { app: ReturnType<typeof createGateway>['app'] }

beforeAll(async () => {
  const deps = makeTestDeps()
  for (const r of RECORDS) await deps.registry.create(r)
  const hashText = (text: string) => hash('sha256', text, 'hex')
  const build = (logger: AppDeps['logger']) => {
    const parts = counting(deps.registry)
    const { app } = createGateway({ ...deps, ...parts, hashText, logger })
    return { ...parts, app }
  }
  withLane = build(createSilentLogger())
  // At debug the access log is written, so every request takes the router.
  router = build({ ...createSilentLogger(), isLevelEnabled: () => true })
})

function poll(app: typeof router.app, path: string, headers: Record<string, string | null>) {
  const sent = Object.fromEntries(
    Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== null),
  )
  return app.request(`${BASE}${path}`, { headers: sent })
}

async function toComparable(res: Response) {
  const bytes = new Uint8Array(await res.arrayBuffer())
  const headers = Object.fromEntries(res.headers)
  // The lane states the length the server would add; it must be the body's.
  if (headers['content-length'] !== undefined) {
    expect(Number(headers['content-length'])).toBe(bytes.byteLength)
    delete headers['content-length']
  }
  if (UUID.test(headers['x-request-id'] ?? '')) headers['x-request-id'] = '<generated>'
  return { status: res.status, headers, body: new TextDecoder().decode(bytes) }
}

describe('status-poll lane', () => {
  it('answers every status poll as the router does', async () => {
    let n = 0
    for (const id of IDS) {
      for (const query of QUERIES) {
        for (const auth of USERS) {
          n++
          const headers = {
            Authorization: auth,
            Accept: ACCEPTS[n % ACCEPTS.length]!,
            'Accept-Language': n % 3 === 0 ? 'cn' : null,
            'X-Request-Id': REQUEST_IDS[n % REQUEST_IDS.length]!,
          }
          const path = `/${id}/status${query}`
          // Twice: the second poll finds the identity cached, and the lane then answers.
          for (let time = 1; time <= 2; time++) {
            const label = `${path} ${JSON.stringify(headers)} (poll ${time})`
            const expected = await toComparable(await poll(router.app, path, headers))
            const actual = await toComparable(await poll(withLane.app, path, headers))
            expect(actual, label).toEqual(expected)
          }
        }
      }
    }
    // Each answered poll counted one look-up, whichever way it went; misses asked the upstream.
    expect(withLane.counts.lookups).toBe(router.counts.lookups)
    expect(withLane.counts.misses).toBe(router.counts.misses)
  })

  it('reads the registry without waiting once the identity is cached', async () => {
    const path = `/${toId(1)}/status`
    await poll(withLane.app, path, { Authorization: ANALYST })
    const before = { ...withLane.counts }
    const res = await poll(withLane.app, `${path}?project=learn_kylin`, {
      Authorization: ANALYST,
      Accept: V4_PUBLIC,
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      code: '000',
      data: {
        query_id: toId(1),
        status: 'SUCCESSFUL',
        info: 'await fetching results',
        rows: 3,
        bytes: 42,
      },
      msg: '',
    })
    expect(withLane.counts.gets).toBe(before.gets)
    expect(withLane.counts.lookups).toBe(before.lookups + 1)
  })

  it('leaves a refusal to the router', async () => {
    const path = `/${toId(5)}/status`
    await poll(withLane.app, path, { Authorization: ANALYST })
    const before = withLane.counts.gets
    const res = await poll(withLane.app, path, { Authorization: ANALYST })
    expect(res.status).toBe(403)
    expect(withLane.counts.gets).toBe(before + 1)
  })

  it('leaves a poll with Prefer: wait to the router, which waits and says so', async () => {
    const path = `/${toId(2)}/status`
    await poll(withLane.app, path, { Authorization: ANALYST })
    const before = withLane.counts.gets
    const start = performance.now()
    const res = await poll(withLane.app, path, { Authorization: ANALYST, Prefer: 'wait=1' })
    expect(res.headers.get('preference-applied')).toBe('wait=1')
    expect(((await res.json()) as { data: { status: string } }).data.status).toBe('RUNNING')
    expect(performance.now() - start).toBeGreaterThanOrEqual(900)
    expect(withLane.counts.gets).toBe(before + 1)
  })
})
