/**
 * GET /metrics on the Node gateway, scraped over a real socket after real queries through the
 * loopback fake Kylin: the counters move, and METRICS_TOKEN guards the page.
 */
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../../src/runtime/node/gateway.ts'
import {
  BASIC,
  KYLIN_SALES_ROWS,
  startFakeKylin,
  type FakeKylin,
} from '../../support/fake-kylin.ts'

const TOKEN = 'scrape-token-4f9c2a'

let kylin: FakeKylin
const gateways: NodeGateway[] = []

async function startGateway(settings: Record<string, string> = {}): Promise<NodeGateway> {
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    STORE: 'memory',
    ...settings,
  })
  const logDestination = new Writable({ write: (_chunk, _encoding, done) => done() })
  const gateway = await startNodeGateway(config, { logDestination })
  gateways.push(gateway)
  return gateway
}

beforeAll(async () => {
  kylin = await startFakeKylin()
})

afterAll(async () => {
  for (const gateway of gateways) await gateway.close()
  await kylin?.close()
})

/** The value of one sample line, `name{labels} value`; undefined when absent. */
function sampleOf(page: string, name: string, labels = ''): number | undefined {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `
  const line = page.split('\n').find((l) => l.startsWith(prefix))
  return line === undefined ? undefined : Number(line.slice(prefix.length))
}

async function runQuery(gateway: NodeGateway, sql: string): Promise<{ id: string; state: string }> {
  const base = `${gateway.url}/kylin/api/async_query`
  const submitted = await fetch(base, {
    method: 'POST',
    headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
  const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
  for (;;) {
    const status = await fetch(`${base}/${id}/status`, {
      headers: { Authorization: BASIC.ANALYST },
    })
    const state = ((await status.json()) as { data: { status: string } }).data.status
    if (state !== 'RUNNING') return { id, state }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('GET /metrics', () => {
  it('counts exports, downloads, failures, upstream calls and identity cache use', async () => {
    const gateway = await startGateway()
    const good = await runQuery(gateway, 'select * from kylin_sales')
    expect(good.state).toBe('SUCCESSFUL')
    const bad = await runQuery(gateway, 'select * from no_such_table')
    expect(bad.state).toBe('FAILED')

    const download = await fetch(
      `${gateway.url}/kylin/api/async_query/${good.id}/result_download`,
      { headers: { Authorization: BASIC.ANALYST, 'Accept-Encoding': 'identity' } },
    )
    expect(download.status).toBe(200)
    const csvBytes = (await download.arrayBuffer()).byteLength
    expect(csvBytes).toBeGreaterThan(0)

    const scrape = await fetch(`${gateway.url}/metrics`)
    expect(scrape.status).toBe(200)
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const page = await scrape.text()

    // Labelled with the upstream's name (its host), one upstream here.
    const upstream = `upstream="${new URL(kylin.url).host}"`
    const finished = 'kylin_gateway_queries_finished_total'
    expect(sampleOf(page, finished, `state="SUCCESSFUL",${upstream}`)).toBe(1)
    expect(sampleOf(page, finished, `state="FAILED",${upstream}`)).toBe(1)
    expect(sampleOf(page, 'kylin_gateway_exported_rows_total')).toBe(KYLIN_SALES_ROWS.length)
    expect(sampleOf(page, 'kylin_gateway_exported_bytes_total')).toBe(csvBytes)
    expect(sampleOf(page, 'kylin_gateway_download_bytes_total')).toBe(csvBytes)
    // The fake answers SQL errors with Kylin's HTTP 500.
    const errors = 'kylin_gateway_upstream_errors_total'
    expect(sampleOf(page, errors, `call="query",kind="status",${upstream}`)).toBe(1)
    expect(sampleOf(page, errors, `call="query",kind="network",${upstream}`)).toBe(0)
    const durations = 'kylin_gateway_upstream_duration_seconds_count'
    expect(sampleOf(page, durations, `call="query",${upstream}`)).toBe(2)
    expect(sampleOf(page, durations, `call="authentication",${upstream}`)).toBe(1)
    // One credential: the first look-up asks Kylin, every later request (polls too) is a hit.
    expect(sampleOf(page, 'kylin_gateway_identity_cache_misses_total')).toBe(1)
    expect(sampleOf(page, 'kylin_gateway_identity_cache_hits_total')).toBeGreaterThanOrEqual(4)
    expect(sampleOf(page, 'kylin_gateway_queries_running')).toBe(0)
    expect(sampleOf(page, 'kylin_gateway_queries_queued')).toBe(0)
    // prom-client's default process metrics.
    expect(sampleOf(page, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
    expect(page).toContain('nodejs_heap_size_used_bytes')
  })

  it('counts status calls by kind: plain polls, waits and event streams', async () => {
    const gateway = await startGateway()
    const done = await runQuery(gateway, 'select * from kylin_sales')
    const base = `${gateway.url}/kylin/api/async_query/${done.id}`
    const headers = { Authorization: BASIC.ANALYST }
    const before = await (await fetch(`${gateway.url}/metrics`)).text()
    const polls = sampleOf(before, 'kylin_gateway_status_calls_total', 'kind="poll"')!
    expect(polls).toBeGreaterThanOrEqual(1)
    for (let i = 0; i < 3; i++) await (await fetch(`${base}/status`, { headers })).text()
    await (await fetch(`${base}/status?wait=1`, { headers })).text()
    await (await fetch(`${base}/status`, { headers: { ...headers, Prefer: 'wait=1' } })).text()
    await (await fetch(`${base}/events`, { headers })).text()
    const page = await (await fetch(`${gateway.url}/metrics`)).text()
    const calls = 'kylin_gateway_status_calls_total'
    expect(sampleOf(page, calls, 'kind="poll"')).toBe(polls + 3)
    expect(sampleOf(page, calls, 'kind="wait"')).toBe(2)
    expect(sampleOf(page, calls, 'kind="events"')).toBe(1)
  })

  it('shows the running query and the queue while they wait', async () => {
    const gateway = await startGateway({ MAX_CONCURRENT_QUERIES: '1' })
    const submit = (sql: string) =>
      fetch(`${gateway.url}/kylin/api/async_query`, {
        method: 'POST',
        headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql, project: 'learn_kylin' }),
      })
    expect((await submit('select 1 -- sleep_ms_400')).status).toBe(200)
    expect((await submit('select 2 -- sleep_ms_400')).status).toBe(200)
    await expect
      .poll(async () =>
        sampleOf(
          await (await fetch(`${gateway.url}/metrics`)).text(),
          'kylin_gateway_queries_running',
        ),
      )
      .toBe(1)
    const page = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(sampleOf(page, 'kylin_gateway_queries_queued')).toBe(1)
  })

  it('asks for the bearer token when METRICS_TOKEN is set', async () => {
    const gateway = await startGateway({ METRICS_TOKEN: TOKEN })
    const scrape = (authorization?: string) =>
      fetch(`${gateway.url}/metrics`, {
        headers: authorization ? { Authorization: authorization } : {},
      })

    const missing = await scrape()
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
    const body = (await missing.json()) as { code: string; data: unknown; msg: string }
    expect(body).toMatchObject({ code: '999', data: null })
    expect(body.msg).toContain('METRICS_TOKEN')
    expect(body.msg).not.toContain(TOKEN)

    for (const wrong of [
      `Bearer ${TOKEN.slice(0, -1)}x`,
      `Bearer ${TOKEN}extra`,
      `Basic ${TOKEN}`,
      BASIC.ADMIN,
    ]) {
      const answer = await scrape(wrong)
      expect(answer.status, wrong).toBe(401)
      await answer.body?.cancel()
    }

    const allowed = await scrape(`Bearer ${TOKEN}`)
    expect(allowed.status).toBe(200)
    expect(await allowed.text()).toContain('kylin_gateway_queries_finished_total')
    // The scheme is case-insensitive, as HTTP says.
    const lower = await scrape(`bearer ${TOKEN}`)
    expect(lower.status).toBe(200)
    await lower.body?.cancel()
  })
})
