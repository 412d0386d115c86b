/**
 * Conformance cases of several Kylins routed by project (KYLIN_UPSTREAMS), run on every target:
 * the default fake Kylin, a Kylin 5-shaped one (`routing-upstreams.ts`) and one that is down.
 * Async queries, the sync query and pass-through go to the project's Kylin; credentials are
 * checked there; the status and /readyz name each upstream.
 */
import { expect, it } from 'vitest'
import { BASIC, KYLIN_SALES_ROWS, type FakeKylin } from '../support/fake-kylin.ts'
import { expectFailedWithKylinMessage } from '../support/query-status.ts'
import {
  DOWN_PROJECT,
  KYLIN5_ONLY_AUTH,
  KYLIN5_PROJECT,
  startRoutingUpstreams,
} from './routing-upstreams.ts'
import type { ConformanceContext, Envelope, Status } from './suite.ts'

type RoutedStatus = Status & { upstream?: string; rows?: number; sha256?: string }

const hostOf = (url: string) => new URL(url).host
const queriesTo = (fake: FakeKylin) => fake.requests.filter((r) => r.path === '/kylin/api/query')

export function addRoutingCases(context: ConformanceContext): void {
  const { api, submit, target } = context
  const waitForEnd = (id: string, auth?: string) =>
    context.waitForEnd(id, auth) as Promise<RoutedStatus>
  const routed = () => startRoutingUpstreams()
  const download = async (id: string, auth?: string) => {
    const res = await api(`/${id}/result_download`, auth ? { auth } : {})
    expect(res.status).toBe(200)
    return new Uint8Array(await res.arrayBuffer())
  }

  it('routing: runs a project mapped to a Kylin 5 there, its status naming the upstream', async () => {
    const { kylin5 } = await routed()
    const before = queriesTo(kylin5).length
    const k5 = await submit({ sql: 'select * from kylin_sales', project: KYLIN5_PROJECT })
    const legacy = await submit({ sql: 'select * from kylin_sales' })
    const [k5End, legacyEnd] = await Promise.all([waitForEnd(k5), waitForEnd(legacy)])
    expect(k5End).toMatchObject({
      status: 'SUCCESSFUL',
      upstream: hostOf(kylin5.url),
      rows: KYLIN_SALES_ROWS.length,
    })
    expect(legacyEnd).toMatchObject({ status: 'SUCCESSFUL', upstream: hostOf(target().kylin.url) })
    expect(queriesTo(kylin5).length - before).toBe(1)
    // Kylin 5's envelope unwrapped: the very bytes the legacy answer gives.
    expect(k5End.sha256).toBe(legacyEnd.sha256)
    expect(await download(k5)).toEqual(await download(legacy))
  })

  it('routing: a Kylin 5 project gives the same file as a legacy one in every format', async () => {
    const sql = 'select * from rows_300'
    for (const format of ['csv', 'json', 'ndjson', 'parquet', 'arrow', 'xlsx']) {
      const k5 = await submit({ sql, project: KYLIN5_PROJECT, format, include_header: true })
      const legacy = await submit({ sql, format, include_header: true })
      const [k5End, legacyEnd] = await Promise.all([waitForEnd(k5), waitForEnd(legacy)])
      expect(k5End, format).toMatchObject({ status: 'SUCCESSFUL', rows: 300 })
      // A ZIP carries its entries' times, so an xlsx is compared by its rows alone.
      if (format !== 'xlsx') expect(k5End.sha256, format).toBe(legacyEnd.sha256)
    }
  })

  it("routing: Kylin 5's error envelopes end the query FAILED with Kylin's message", async () => {
    for (const [sql, message] of [
      ['select * from no_such_table', "Object 'NO_SUCH_TABLE' not found"],
      ['select 1 -- error_envelope_200', "Table 'ERROR_ENVELOPE_200' not found in project"],
      ['select 1 -- is_exception', 'is_exception was requested'],
    ] as const) {
      const id = await submit({ sql, project: KYLIN5_PROJECT })
      expectFailedWithKylinMessage(await waitForEnd(id), message)
    }
  })

  it('routing: the sync query and pass-through requests go to the project Kylin', async () => {
    const { kylin5 } = await routed()
    const base = target().url
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: {
          Authorization: BASIC.ANALYST,
          'Content-Type': 'application/json',
          ...(init.headers as Record<string, string> | undefined),
        },
      })
    const sync = await call('/kylin/api/query', {
      method: 'POST',
      body: JSON.stringify({ sql: 'select * from kylin_sales', project: KYLIN5_PROJECT }),
    })
    expect(sync.status).toBe(200)
    const answer = (await sync.json()) as Envelope<{ results: unknown[] }>
    expect(answer.code).toBe('000')
    expect(answer.data.results).toHaveLength(KYLIN_SALES_ROWS.length)

    const echoed = async (path: string, init: RequestInit = {}) => {
      const res = await call(path, init)
      expect(res.status, path).toBe(200)
      return (await res.json()) as { headers: { host: string }; body: string }
    }
    const body = JSON.stringify({ project: KYLIN5_PROJECT, note: 'é'.repeat(20_000) })
    const byBody = await echoed('/kylin/api/cubes', { method: 'POST', body })
    expect(byBody.headers.host).toBe(hostOf(kylin5.url))
    expect(byBody.body).toBe(body)
    for (const path of [
      `/kylin/api/tables?project=${KYLIN5_PROJECT}`,
      `/kylin/api/cubes?projectName=${KYLIN5_PROJECT}`,
    ]) {
      expect((await echoed(path)).headers.host, path).toBe(hostOf(kylin5.url))
    }
    for (const path of ['/kylin/api/projects', '/kylin/api/cubes?project=learn_kylin']) {
      expect((await echoed(path)).headers.host, path).toBe(hostOf(target().kylin.url))
    }
  })

  it('routing: checks credentials with the Kylin that runs the query', async () => {
    const refused = await api('', {
      method: 'POST',
      auth: KYLIN5_ONLY_AUTH,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: 'select 1', project: 'learn_kylin' }),
    })
    expect(refused.status).toBe(401)
    const id = await submit(
      { sql: 'select * from kylin_sales', project: KYLIN5_PROJECT },
      { auth: KYLIN5_ONLY_AUTH },
    )
    expect(await waitForEnd(id, KYLIN5_ONLY_AUTH)).toMatchObject({ status: 'SUCCESSFUL' })
    expect((await download(id, KYLIN5_ONLY_AUTH)).byteLength).toBeGreaterThan(0)
    expect((await api(`?project=${KYLIN5_PROJECT}`, { auth: KYLIN5_ONLY_AUTH })).status).toBe(200)
    // A stop names the query in its second segment: checked with the query's Kylin too.
    const stop = await api(`/stop/${id}`, { method: 'DELETE', auth: KYLIN5_ONLY_AUTH })
    expect(stop.status).not.toBe(401)
    expect((await api(`/${id}`, { method: 'DELETE', auth: KYLIN5_ONLY_AUTH })).status).toBe(200)
  })

  it('routing: /readyz shows each upstream, a down one not failing the gateway', async () => {
    const { kylin5, downUrl } = await routed()
    const res = await fetch(`${target().url}/readyz`)
    expect(res.status).toBe(200)
    const report = (await res.json()) as {
      checks: { upstreams: Record<string, { ok: boolean; default: boolean }> }
    }
    expect(report.checks.upstreams[hostOf(target().kylin.url)]).toMatchObject({
      ok: true,
      default: true,
    })
    expect(report.checks.upstreams[hostOf(kylin5.url)]).toMatchObject({ ok: true, default: false })
    expect(report.checks.upstreams[hostOf(downUrl)]).toMatchObject({ ok: false })
    // A submit to the project whose Kylin is down: its credentials cannot be checked there.
    const refused = await api('', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: 'select 1', project: DOWN_PROJECT }),
    })
    expect(refused.status).toBe(502)
    expect(((await refused.json()) as Envelope).msg).toContain(hostOf(downUrl))
  })

  it('routing: labels upstream metrics with the upstream (where /metrics is served)', async () => {
    const { kylin5 } = await routed()
    // Two scrapes: behind the balancer each lands on another instance.
    const pages: string[] = []
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${target().url}/metrics`)
      if (res.status === 404) return // Workers: no /metrics.
      pages.push(await res.text())
    }
    const label = `upstream="${hostOf(kylin5.url)}"`
    expect(pages.join('\n')).toContain(
      `kylin_gateway_upstream_errors_total{call="query",kind="status",${label}}`,
    )
    const counts = pages.flatMap((page) =>
      page
        .split('\n')
        .filter((line) =>
          line.startsWith(`kylin_gateway_upstream_duration_seconds_count{call="query",${label}} `),
        )
        .map((line) => Number(line.split(' ')[1])),
    )
    expect(Math.max(0, ...counts)).toBeGreaterThan(0)
  })
}
