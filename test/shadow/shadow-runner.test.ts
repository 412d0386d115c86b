/**
 * Shadow runs on the Node gateway over real sockets, two loopback fake Kylins: sampling 0 runs
 * none, the concurrency limit and its bounded queue (past it: SKIPPED), the counters in /metrics
 * and the one log line per mismatch (never rows or SQL).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { BASIC, KYLIN_SALES_ROWS, startFakeKylin, type FakeKylin } from '../support/fake-kylin.ts'

let primary: FakeKylin
let shadow: FakeKylin
const gateways: NodeGateway[] = []

beforeAll(async () => {
  ;[primary, shadow] = await Promise.all([startFakeKylin(), startFakeKylin()])
})

afterEach(() => {
  shadow.setQueryHandler(null)
  primary.setQueryHandler(null)
})

afterAll(async () => {
  for (const gateway of gateways) await gateway.close()
  await Promise.all([primary?.close(), shadow?.close()])
})

async function startGateway(settings: Record<string, string>, logs: string[] = []) {
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: primary.url,
    KYLIN_SHADOW_URL: shadow.url,
    PORT: '0',
    HOST: '127.0.0.1',
    STORE: 'memory',
    LOG_LEVEL: 'info',
    ...settings,
  })
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const gateway = await startNodeGateway(config, { logDestination })
  gateways.push(gateway)
  return gateway
}

async function submit(gateway: NodeGateway, sql: string): Promise<string> {
  const res = await fetch(`${gateway.url}/kylin/api/async_query`, {
    method: 'POST',
    headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: { queryID: string } }).data.queryID
}

type StatusData = { status: string; shadow?: Record<string, unknown> & { status: string } }

async function statusOf(gateway: NodeGateway, id: string): Promise<StatusData> {
  const res = await fetch(`${gateway.url}/kylin/api/async_query/${id}/status`, {
    headers: { Authorization: BASIC.ANALYST },
  })
  return ((await res.json()) as { data: StatusData }).data
}

async function waitFor(
  gateway: NodeGateway,
  id: string,
  done: (data: StatusData) => boolean,
): Promise<StatusData> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const data = await statusOf(gateway, id)
    if (done(data) || Date.now() > deadline) return data
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const shadowQueries = () => shadow.requests.filter((r) => r.path === '/kylin/api/query').length

describe('shadow runs on Node', () => {
  it('runs none with SHADOW_SAMPLE=0', async () => {
    const gateway = await startGateway({ SHADOW_SAMPLE: '0' })
    const before = shadowQueries()
    const id = await submit(gateway, 'select * from kylin_sales')
    const ended = await waitFor(gateway, id, (d) => d.status !== 'RUNNING')
    expect(ended.status).toBe('SUCCESSFUL')
    expect(ended).not.toHaveProperty('shadow')
    // A while for a shadow run that should not come.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(shadowQueries()).toBe(before)
  })

  it('runs at most SHADOW_MAX_CONCURRENT at once, queues SHADOW_MAX_QUEUED, skips the rest', async () => {
    const logs: string[] = []
    const gateway = await startGateway({ SHADOW_MAX_CONCURRENT: '1', SHADOW_MAX_QUEUED: '1' }, logs)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    shadow.setQueryHandler(async (_req, _res, ctx) => {
      await held
      return ctx.fallback()
    })
    const ids: string[] = []
    // One after the other, so the order of the shadow hand-offs is known.
    for (let i = 0; i < 3; i++) {
      const id = await submit(gateway, 'select * from kylin_sales')
      expect((await waitFor(gateway, id, (d) => d.status !== 'RUNNING')).status).toBe('SUCCESSFUL')
      ids.push(id)
    }
    const skipped = await waitFor(gateway, ids[2]!, (d) => d.shadow?.status !== 'RUNNING')
    expect(skipped.shadow).toMatchObject({ status: 'SKIPPED', match: null })
    expect(skipped.shadow!.message).toContain('SHADOW_MAX_CONCURRENT')
    expect((await statusOf(gateway, ids[0]!)).shadow!.status).toBe('RUNNING')
    expect((await statusOf(gateway, ids[1]!)).shadow!.status).toBe('RUNNING')
    release()
    for (const id of ids.slice(0, 2)) {
      const ended = await waitFor(gateway, id, (d) => d.shadow?.status !== 'RUNNING')
      expect(ended.shadow).toMatchObject({
        status: 'SUCCESSFUL',
        match: true,
        rows: KYLIN_SALES_ROWS.length,
      })
    }
    expect(shadow.maxInFlight).toBe(1)

    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(metrics).toContain('kylin_gateway_shadow_verdicts_total{outcome="match"} 2')
    expect(metrics).toContain('kylin_gateway_shadow_verdicts_total{outcome="skipped"} 1')
    expect(metrics).toContain('kylin_gateway_shadow_verdicts_total{outcome="mismatch"} 0')
  })

  it('logs one line per mismatch with the id, project and counts, never the rows or SQL', async () => {
    const logs: string[] = []
    const gateway = await startGateway({}, logs)
    shadow.setQueryHandler((_req, res, ctx) => {
      if (!ctx.sql.includes('kylin_sales')) return ctx.fallback()
      // Another answer: the count query's, one row of another column.
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(
        JSON.stringify({
          columnMetas: [{ label: 'EXPR$0', name: 'EXPR$0', columnTypeName: 'BIGINT' }],
          results: [['secret-cell-text']],
          isException: false,
        }),
      )
    })
    const id = await submit(gateway, 'select * from kylin_sales')
    const ended = await waitFor(gateway, id, (d) => d.shadow?.status === 'SUCCESSFUL')
    expect(ended.shadow).toMatchObject({
      match: false,
      rows: 1,
      primary_rows: KYLIN_SALES_ROWS.length,
    })
    const lines = logs.filter((line) => line.includes('shadow mismatch'))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      queryId: id,
      project: 'learn_kylin',
      primaryRows: KYLIN_SALES_ROWS.length,
      shadowRows: 1,
    })
    const all = logs.join('')
    expect(all).not.toContain('secret-cell-text')
    expect(all).not.toContain('kylin_sales')
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(metrics).toContain('kylin_gateway_shadow_verdicts_total{outcome="mismatch"} 1')
  })

  it('shadows no stopped query: its verdict says it was skipped', async () => {
    const gateway = await startGateway({})
    const before = shadowQueries()
    primary.setQueryHandler(() => new Promise<void>(() => {}))
    const id = await submit(gateway, 'select * from kylin_sales')
    expect((await statusOf(gateway, id)).shadow).toMatchObject({ status: 'RUNNING' })
    const stop = await fetch(`${gateway.url}/kylin/api/async_query/stop/${id}`, {
      method: 'DELETE',
      headers: { Authorization: BASIC.ANALYST },
    })
    expect(stop.status).toBe(200)
    const ended = await waitFor(
      gateway,
      id,
      (d) => d.status !== 'RUNNING' && d.shadow?.status !== 'RUNNING',
    )
    expect(ended).toMatchObject({ status: 'FAILED', shadow: { status: 'SKIPPED', match: null } })
    expect(ended.shadow!.message).toContain('stopped')
    expect(shadowQueries()).toBe(before)
  })

  it('never holds a shutdown up: a running shadow ends FAILED without a verdict, kept on disk', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shadow-shutdown-'))
    try {
      const gateway = await startGateway({ STORE: 'fs', DATA_DIR: dataDir })
      // Never answers: only the shutdown ends this shadow run.
      shadow.setQueryHandler(() => new Promise<void>(() => {}))
      const id = await submit(gateway, 'select * from kylin_sales')
      const ended = await waitFor(gateway, id, (d) => d.status !== 'RUNNING')
      expect(ended).toMatchObject({ status: 'SUCCESSFUL', shadow: { status: 'RUNNING' } })
      const started = performance.now()
      await gateway.close()
      gateways.splice(gateways.indexOf(gateway), 1)
      expect(performance.now() - started).toBeLessThan(5000)
      const kept = JSON.parse(await readFile(join(dataDir, `${id}.json`), 'utf8')) as {
        state: string
        shadow: Record<string, unknown>
      }
      expect(kept.state).toBe('SUCCESSFUL')
      expect(kept.shadow).toMatchObject({
        status: 'FAILED',
        match: null,
        firstDifference: null,
      })
      expect(kept.shadow.message).toContain('shut down before the shadow run ended')
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
