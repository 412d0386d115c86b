/**
 * Several Kylins behind one Node gateway, routed by project (KYLIN_UPSTREAMS): three real loopback
 * fakes, one legacy default, one Kylin 5-shaped, one more legacy. Every kind of request goes to
 * its project's Kylin; credentials are checked there; records, /readyz and metrics name it.
 */
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import {
  BASIC,
  basicAuth,
  KYLIN_SALES_ROWS,
  startFakeKylin,
  type FakeKylin,
} from '../support/fake-kylin.ts'
import { expectFailedWithKylinMessage } from '../support/query-status.ts'

const K5_ONLY = { username: 'K5ONLY', password: 'K5PASS' }
const K5_ONLY_AUTH = basicAuth(K5_ONLY.username, K5_ONLY.password)

let legacy: FakeKylin
let kylin5: FakeKylin
let third: FakeKylin
let gateway: NodeGateway
const hostOf = (fake: FakeKylin) => new URL(fake.url).host

type StatusData = {
  status: string
  info: string
  upstream?: string
  rows?: number
  sha256?: string
}

async function submit(body: Record<string, unknown>, auth: string = BASIC.ANALYST) {
  return fetch(`${gateway.url}/kylin/api/async_query`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function submitId(body: Record<string, unknown>, auth: string = BASIC.ANALYST) {
  const res = await submit(body, auth)
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: { queryID: string } }).data.queryID
}

async function waitForEnd(id: string, auth: string = BASIC.ANALYST): Promise<StatusData> {
  for (;;) {
    const res = await fetch(`${gateway.url}/kylin/api/async_query/${id}/status?wait=5`, {
      headers: { Authorization: auth },
    })
    expect(res.status).toBe(200)
    const { data } = (await res.json()) as { data: StatusData }
    if (data.status !== 'RUNNING') return data
  }
}

async function download(id: string, auth: string = BASIC.ANALYST): Promise<Uint8Array> {
  const res = await fetch(`${gateway.url}/kylin/api/async_query/${id}/result_download`, {
    headers: { Authorization: auth },
  })
  expect(res.status).toBe(200)
  return new Uint8Array(await res.arrayBuffer())
}

const queriesTo = (fake: FakeKylin) => fake.requests.filter((r) => r.path === '/kylin/api/query')

/** Log lines of the gateways started here. */
const logLines: string[] = []

async function startGateway(settings: Record<string, string>): Promise<NodeGateway> {
  return startNodeGateway(
    parseConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      STORE: 'memory',
      ...settings,
    }),
    {
      logDestination: new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
          done()
        },
      }),
    },
  )
}

beforeAll(async () => {
  ;[legacy, kylin5, third] = await Promise.all([
    startFakeKylin(),
    startFakeKylin({
      authShape: 'kylin5',
      queryShape: 'kylin5',
      extraUsers: { [K5_ONLY.username]: { password: K5_ONLY.password, authorities: [] } },
    }),
    startFakeKylin(),
  ])
  gateway = await startGateway({
    KYLIN_UPSTREAMS: `learn_kylin5=${kylin5.url},Proj_C=${third.url},*=${legacy.url}`,
  })
})

afterAll(async () => {
  await gateway?.close()
  await Promise.all([legacy, kylin5, third].map((fake) => fake?.close()))
})

describe('routing by project (three upstreams)', () => {
  it('says each route in its start-up line', () => {
    const started = logLines.find((line) => line.includes('listening on'))
    expect(started).toContain(
      `upstream ${`learn_kylin5=${kylin5.url},proj_c=${third.url},*=${legacy.url}`}`,
    )
  })

  it('runs an async query on its project Kylin and records which one made it', async () => {
    const before = [queriesTo(legacy).length, queriesTo(kylin5).length, queriesTo(third).length]
    const k5 = await submitId({ sql: 'select * from kylin_sales', project: 'learn_kylin5' })
    const c = await submitId({ sql: 'select * from kylin_sales', project: 'proj_c' })
    const other = await submitId({ sql: 'select * from kylin_sales', project: 'learn_kylin' })
    const [k5End, cEnd, otherEnd] = await Promise.all([
      waitForEnd(k5),
      waitForEnd(c),
      waitForEnd(other),
    ])
    expect(k5End).toMatchObject({ status: 'SUCCESSFUL', upstream: hostOf(kylin5) })
    // Project names match case-insensitively, as Kylin's do.
    expect(cEnd).toMatchObject({ status: 'SUCCESSFUL', upstream: hostOf(third) })
    expect(otherEnd).toMatchObject({ status: 'SUCCESSFUL', upstream: hostOf(legacy) })
    expect(queriesTo(legacy).length - before[0]!).toBe(1)
    expect(queriesTo(kylin5).length - before[1]!).toBe(1)
    expect(queriesTo(third).length - before[2]!).toBe(1)
    // The Kylin 5 envelope is unwrapped: the same bytes as the legacy Kylin's bare answer.
    expect(k5End.rows).toBe(KYLIN_SALES_ROWS.length)
    expect(k5End.sha256).toBe(otherEnd.sha256)
    expect(await download(k5)).toEqual(await download(other))
    // Never a URL, so never a user or password.
    expect(JSON.stringify(k5End)).not.toContain('http')
  })

  it.each(['csv', 'json', 'ndjson', 'xlsx', 'parquet', 'arrow'])(
    'a Kylin 5 project gives the same %s file as a legacy one',
    async (format) => {
      const sql = 'select * from rows_2500'
      const k5 = await submitId({ sql, project: 'learn_kylin5', format, include_header: true })
      const old = await submitId({ sql, project: 'learn_kylin', format, include_header: true })
      const [k5End, oldEnd] = await Promise.all([waitForEnd(k5), waitForEnd(old)])
      expect(k5End).toMatchObject({ status: 'SUCCESSFUL', rows: 2500, upstream: hostOf(kylin5) })
      expect(oldEnd.upstream).toBe(hostOf(legacy))
      if (format === 'xlsx') {
        // A ZIP carries its entries' times: compare sizes and rows, not bytes.
        expect(k5End.rows).toBe(oldEnd.rows)
      } else {
        expect(k5End.sha256).toBe(oldEnd.sha256)
      }
    },
  )

  it.each([
    [
      'a Kylin 5 error envelope with HTTP 500',
      'select * from no_such_table',
      "Object 'NO_SUCH_TABLE' not found",
    ],
    [
      'a Kylin 5 error envelope with HTTP 200',
      'select 1 -- error_envelope_200',
      "Table 'ERROR_ENVELOPE_200' not found in project",
    ],
    [
      'an exception inside the 000 envelope',
      'select 1 -- is_exception',
      'is_exception was requested',
    ],
  ])('%s ends FAILED with Kylin 5 message', async (_name, sql, message) => {
    for (const format of ['csv', 'json']) {
      const id = await submitId({ sql, project: 'learn_kylin5', format })
      const end = await waitForEnd(id)
      expectFailedWithKylinMessage(end, message)
      expect(end.upstream).toBe(hostOf(kylin5))
    }
  })

  it('sends the sync query to its project Kylin', async () => {
    const ask = (project: string) =>
      fetch(`${gateway.url}/kylin/api/query`, {
        method: 'POST',
        headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: 'select * from kylin_sales', project }),
      })
    const k5 = (await (await ask('learn_kylin5')).json()) as {
      code?: string
      data?: { results: unknown[] }
    }
    expect(k5.code).toBe('000')
    expect(k5.data?.results).toHaveLength(KYLIN_SALES_ROWS.length)
    const old = (await (await ask('learn_kylin')).json()) as { code?: string; results: unknown[] }
    expect(old.code).toBeUndefined()
    expect(old.results).toHaveLength(KYLIN_SALES_ROWS.length)
  })

  it('routes pass-through requests by body project, ?project=, projectName, else the default', async () => {
    const echo = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${gateway.url}${path}`, {
        ...init,
        headers: { Authorization: BASIC.ANALYST, ...(init.headers as Record<string, string>) },
      })
      expect(res.status).toBe(200)
      return (await res.json()) as {
        path: string
        query: string
        headers: { host: string }
        body: string
      }
    }
    const json = { 'Content-Type': 'application/json' }
    // A body far past the scan bound, its project first: routed, and passed on byte for byte.
    const bulky = JSON.stringify({ project: 'learn_kylin5', rows: 'x'.repeat(200_000) })
    const cases: [string, RequestInit, FakeKylin][] = [
      [
        '/kylin/api/cubes',
        { method: 'POST', headers: json, body: JSON.stringify({ project: 'proj_c' }) },
        third,
      ],
      ['/kylin/api/cubes', { method: 'PUT', headers: json, body: bulky }, kylin5],
      ['/kylin/api/tables?project=learn_kylin5', {}, kylin5],
      ['/kylin/api/cubes?projectName=proj_c&limit=5', {}, third],
      ['/kylin/api/projects', {}, legacy],
      [
        '/kylin/api/cubes',
        { method: 'POST', headers: json, body: JSON.stringify({ name: 'x' }) },
        legacy,
      ],
      // A project nested deeper is not the request's: the default.
      [
        '/kylin/api/cubes',
        { method: 'POST', headers: json, body: JSON.stringify({ cube: { project: 'proj_c' } }) },
        legacy,
      ],
      // Unmapped: the default.
      ['/kylin/api/cubes?project=someone_else', {}, legacy],
    ]
    for (const [path, init, expected] of cases) {
      const answer = await echo(path, init)
      expect(answer.headers.host, `${init.method ?? 'GET'} ${path}`).toBe(hostOf(expected))
      if (typeof init.body === 'string') expect(answer.body).toBe(init.body)
    }
    // Past the scan bound before any project: the default, the body unchanged.
    const late = JSON.stringify({ rows: 'y'.repeat(100_000), project: 'proj_c' })
    const answer = await echo('/kylin/api/cubes', { method: 'POST', headers: json, body: late })
    expect(answer.headers.host).toBe(hostOf(legacy))
    expect(answer.body).toBe(late)
  })

  it('checks credentials with the Kylin that runs the query', async () => {
    // Known on the Kylin 5 only: refused for a legacy project, served for its own.
    const refused = await submit({ sql: 'select 1', project: 'learn_kylin' }, K5_ONLY_AUTH)
    expect(refused.status).toBe(401)
    const id = await submitId(
      { sql: 'select * from kylin_sales', project: 'learn_kylin5' },
      K5_ONLY_AUTH,
    )
    const end = await waitForEnd(id, K5_ONLY_AUTH)
    expect(end).toMatchObject({ status: 'SUCCESSFUL', upstream: hostOf(kylin5) })
    expect((await download(id, K5_ONLY_AUTH)).byteLength).toBeGreaterThan(0)
    // The query's own record decides, with or without ?project=.
    const polled = await fetch(`${gateway.url}/kylin/api/async_query/${id}/status`, {
      headers: { Authorization: K5_ONLY_AUTH },
    })
    expect(polled.status).toBe(200)
    const listed = await fetch(`${gateway.url}/kylin/api/async_query?project=learn_kylin5`, {
      headers: { Authorization: K5_ONLY_AUTH },
    })
    expect(listed.status).toBe(200)
    const unlisted = await fetch(`${gateway.url}/kylin/api/async_query`, {
      headers: { Authorization: K5_ONLY_AUTH },
    })
    expect(unlisted.status).toBe(401)
    // Each identity call went to the Kylin named, never to the others.
    const authCalls = (fake: FakeKylin) =>
      fake.requests.filter(
        (r) =>
          r.path === '/kylin/api/user/authentication' && r.headers.authorization === K5_ONLY_AUTH,
      ).length
    expect(authCalls(kylin5)).toBeGreaterThan(0)
    expect(authCalls(third)).toBe(0)
  })

  it('labels upstream metrics with the upstream', async () => {
    const page = await (await fetch(`${gateway.url}/metrics`)).text()
    for (const fake of [legacy, kylin5, third]) {
      const line = page
        .split('\n')
        .find((l) =>
          l.startsWith(
            `kylin_gateway_upstream_duration_seconds_count{call="query",upstream="${hostOf(fake)}"} `,
          ),
        )
      expect(Number(line?.split(' ')[1])).toBeGreaterThan(0)
    }
    expect(page).toContain(
      `kylin_gateway_upstream_errors_total{call="query",kind="status",upstream="${hostOf(kylin5)}"} 2`,
    )
    // The two Kylin 5 failures of the error-envelope case with HTTP 200 and 500, and the rest.
    const finishedOf = (state: string, fake: FakeKylin) =>
      Number(
        page
          .split('\n')
          .find((l) =>
            l.startsWith(
              `kylin_gateway_queries_finished_total{state="${state}",upstream="${hostOf(fake)}"} `,
            ),
          )
          ?.split(' ')[1],
      )
    expect(finishedOf('FAILED', kylin5)).toBe(6)
    expect(finishedOf('SUCCESSFUL', third)).toBe(1)
  })

  it('changes nothing for one upstream: no upstream in the status', async () => {
    const single = await startGateway({ KYLIN_UPSTREAM_URL: legacy.url })
    try {
      const res = await fetch(`${single.url}/kylin/api/async_query`, {
        method: 'POST',
        headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: 'select 1', project: 'learn_kylin5' }),
      })
      const id = ((await res.json()) as { data: { queryID: string } }).data.queryID
      let data: StatusData
      do {
        const status = await fetch(`${single.url}/kylin/api/async_query/${id}/status?wait=5`, {
          headers: { Authorization: BASIC.ANALYST },
        })
        data = ((await status.json()) as { data: StatusData }).data
      } while (data.status === 'RUNNING')
      expect(data.status).toBe('SUCCESSFUL')
      expect(data).not.toHaveProperty('upstream')
      const ready = (await (await fetch(`${single.url}/readyz`)).json()) as { checks: object }
      expect(ready.checks).not.toHaveProperty('upstreams')
    } finally {
      await single.close()
    }
  })

  it('shows each upstream in /readyz; a down one is reported, the default decides', async () => {
    const up = await fetch(`${gateway.url}/readyz`)
    expect(up.status).toBe(200)
    const report = (await up.json()) as {
      checks: { upstreams: Record<string, { ok: boolean; default: boolean }> }
    }
    expect(Object.keys(report.checks.upstreams).sort()).toEqual(
      [legacy, kylin5, third].map(hostOf).sort(),
    )
    expect(report.checks.upstreams[hostOf(legacy)]).toMatchObject({ ok: true, default: true })

    const spare = await startFakeKylin()
    const down = await startFakeKylin()
    const downUrl = down.url
    await down.close()
    const probe = await startGateway({ KYLIN_UPSTREAMS: `lost=${downUrl},*=${spare.url}` })
    const onlyOther = await fetch(`${probe.url}/readyz`)
    expect(onlyOther.status).toBe(200)
    const shown = (await onlyOther.json()) as {
      checks: { upstreams: Record<string, { ok: boolean; error?: string }> }
    }
    expect(shown.checks.upstreams[new URL(downUrl).host]).toMatchObject({ ok: false })
    expect(shown.checks.upstreams[hostOf(spare)]).toMatchObject({ ok: true })
    await probe.close()

    const lostDefault = await startGateway({ KYLIN_UPSTREAMS: `kept=${spare.url},*=${downUrl}` })
    expect((await fetch(`${lostDefault.url}/readyz`)).status).toBe(503)
    await lostDefault.close()
    await spare.close()
  })
})
