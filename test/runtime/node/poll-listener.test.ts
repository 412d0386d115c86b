/**
 * Status polls answered from Node's own request (poll-listener.ts) answer, byte for byte, what the
 * app's router answers: the same raw requests over real sockets to a server with the listener and
 * to one whose gateway serves every request through the router (its logger at debug).
 */
import { hash } from 'node:crypto'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { ServerType } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway } from '../../../src/app.ts'
import type { AppDeps } from '../../../src/deps.ts'
import { createSilentLogger } from '../../../src/logger.ts'
import { NO_METRICS, type GatewayMetrics } from '../../../src/ops/metrics.ts'
import { startHttpServer } from '../../../src/runtime/node/http-server.ts'
import { createPollListener } from '../../../src/runtime/node/poll-listener.ts'
import {
  IDS,
  QUERIES,
  RECORDS,
  USERS,
  UUID,
  V2,
  V4_PUBLIC,
  toId,
} from '../../support/polled-records.ts'
import { ADMIN, ANALYST, makeTestDeps } from '../../support/test-deps.ts'

const PATH = '/kylin/api/async_query'
const SETTINGS = {
  host: '127.0.0.1',
  port: 0,
  keepAliveTimeoutMs: 5_000,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 5_000,
}

interface Served {
  server: ServerType
  port: number
  /** `polls`: status calls counted; `fetches`: requests that reached the app. */
  counts: { lookups: number; misses: number; polls: number; fetches: number }
}

let early: Served
let router: Served

async function serve(logger: AppDeps['logger'], withListener: boolean): Promise<Served> {
  const deps = makeTestDeps()
  for (const r of RECORDS) await deps.registry.create(r)
  const counts = { lookups: 0, misses: 0, polls: 0, fetches: 0 }
  const metrics: GatewayMetrics = {
    ...NO_METRICS,
    countIdentityLookup: () => void counts.lookups++,
    countIdentityMiss: () => void counts.misses++,
    countStatusCall: () => void counts.polls++,
  }
  const hashText = (text: string) => hash('sha256', text, 'hex')
  const gateway = createGateway({ ...deps, metrics, hashText, logger })
  const answer = gateway.answerPoll
  if (withListener && !answer) throw new Error('the gateway has no poll lane at this log level')
  const fetch: typeof gateway.app.fetch = (...args) => {
    counts.fetches++
    return gateway.app.fetch(...args)
  }
  const server = await startHttpServer(
    fetch,
    SETTINGS,
    withListener && answer ? createPollListener(answer) : undefined,
  )
  return { server, port: (server.address() as AddressInfo).port, counts }
}

beforeAll(async () => {
  early = await serve(createSilentLogger(), true)
  // At debug the access log is written, so the app's router answers every request.
  router = await serve({ ...createSilentLogger(), isLevelEnabled: () => true }, false)
})

afterAll(async () => {
  for (const { server } of [early, router]) {
    await new Promise((resolve) => server.close(resolve))
  }
})

/** Sends `head` (the request line and header lines) as it is, and reads the whole answer. */
function exchange(port: number, head: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.on('error', reject)
    socket.end(`${[...head, 'Host: gateway.test', 'Connection: close'].join('\r\n')}\r\n\r\n`)
  })
}

/** The answer without what differs between any two answers: the date and a generated id. */
function comparable(answer: string): string {
  return answer
    .split('\r\n')
    .filter((line) => !line.startsWith('Date: '))
    .map((line) => {
      const id = /^x-request-id: (.*)$/i.exec(line)?.[1]
      return id !== undefined && UUID.test(id) ? 'x-request-id: <generated>' : line
    })
    .join('\r\n')
}

async function expectSameAnswer(head: string[]): Promise<string> {
  // Twice: the second request finds the identity cached, and the listener then answers.
  let answer = ''
  for (let time = 1; time <= 2; time++) {
    const expected = comparable(await exchange(router.port, head))
    answer = comparable(await exchange(early.port, head))
    expect(answer, `${head.join(' | ')} (time ${time})`).toBe(expected)
  }
  return answer
}

describe('Node poll listener', () => {
  it('answers every status poll as the router does, headers in the same order and case', async () => {
    let n = 0
    for (const id of IDS) {
      for (const query of QUERIES) {
        for (const auth of USERS) {
          n++
          const head = [`GET ${PATH}/${id}/status${query} HTTP/1.1`]
          if (auth) head.push(`Authorization: ${auth}`)
          if (n % 3 === 0) head.push(`Accept: ${n % 2 ? V2 : V4_PUBLIC}`)
          if (n % 4 === 0) head.push('Accept-Language: cn')
          if (n % 5 === 0) head.push('X-Request-Id: client-id_1=')
          if (n % 7 === 0) head.push('X-Request-Id: not safe!')
          await expectSameAnswer(head)
        }
      }
    }
    // The listener answered some itself, and counted as the router does.
    expect(early.counts.fetches).toBeLessThan(router.counts.fetches)
    expect(early.counts.polls).toBe(router.counts.polls)
    expect(early.counts.lookups).toBe(router.counts.lookups)
    expect(early.counts.misses).toBe(router.counts.misses)
  })

  it('reads repeated and oddly written headers as the web Request the router reads', async () => {
    const status = `GET ${PATH}/${toId(1)}/status HTTP/1.1`
    const cases = [
      // Two credentials: Node would keep the first, the web Request joins them.
      [status, `Authorization: ${ANALYST}`, `Authorization: ${ADMIN}`],
      [status, `authorization: ${ANALYST}`, `AUTHORIZATION: Basic bm9ib2R5Ong=`],
      [status, `AUTHORIZATION:    ${ANALYST}   `],
      [status, `Authorization: ${ANALYST}`, 'Cookie: a=1', 'cookie: b=2'],
      [status, `Authorization: ${ANALYST}`, `Accept: ${V2}`, `Accept: ${V4_PUBLIC}`],
      [status, `Authorization: ${ANALYST}`, 'Accept-Language: cn', 'Accept-Language: en'],
      [status, `Authorization: ${ANALYST}`, 'X-Request-Id: a', 'X-Request-Id: b'],
      [status, `Authorization: ${ANALYST}`, 'Prefer: handling=lenient'],
      [`HEAD ${PATH}/${toId(1)}/status HTTP/1.1`, `Authorization: ${ANALYST}`],
      [`GET http://gateway.test${PATH}/${toId(1)}/status HTTP/1.1`, `Authorization: ${ANALYST}`],
      [
        `GET ${PATH}/${toId(1)}/status?project=learn_kylin&x=1 HTTP/1.1`,
        `Authorization: ${ANALYST}`,
      ],
      [`GET ${PATH}/${toId(1)}/status/ HTTP/1.1`, `Authorization: ${ANALYST}`],
    ]
    for (const head of cases) await expectSameAnswer(head)
  })

  it('answers a poll itself once the identity is cached', async () => {
    const head = [`GET ${PATH}/${toId(2)}/status HTTP/1.1`, `Authorization: ${ANALYST}`]
    await exchange(early.port, head)
    const before = { ...early.counts }
    const answer = await exchange(early.port, head)
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(answer).toContain('"status":"RUNNING"')
    expect(early.counts.polls).toBe(before.polls + 1)
    expect(early.counts.fetches).toBe(before.fetches)
  })
})
