/**
 * The Grafana dashboard in ops/grafana/ against a real Node gateway's GET /metrics: every metric
 * a panel queries is one the gateway exports, every gateway metric has a panel, and the
 * dashboard is the JSON Grafana imports (a uid, a datasource variable, panels on the grid).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../../src/runtime/node/gateway.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'

const DASHBOARD = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'ops',
  'grafana',
  'kylin-async-gateway.json',
)

/** PromQL's functions, aggregations and keywords: every other identifier is a metric name. */
const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'topk',
  'bottomk',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'rate',
  'irate',
  'increase',
  'delta',
  'deriv',
  'histogram_quantile',
  'clamp_min',
  'clamp_max',
  'abs',
  'avg_over_time',
  'max_over_time',
  'min_over_time',
])

interface Panel {
  type: string
  title: string
  gridPos: { h: number; w: number; x: number; y: number }
  targets?: { expr: string }[]
  panels?: Panel[]
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string
  title: string
  panels: Panel[]
  templating: { list: { name: string; type: string; query?: unknown }[] }
}
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
const queries = panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
)

/** The metric names of a PromQL expression: identifiers outside label matchers, ranges and grouping. */
function toMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![A-Za-z0-9_:])\d+(\.\d+)?(e[-+]?\d+)?/gi, ' ')
  const names = [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)].map((m) => m[0])
  return names.filter((name) => !PROMQL_WORDS.has(name))
}

let kylin: FakeKylin
let gateway: NodeGateway
let exported: Set<string>

beforeAll(async () => {
  kylin = await startFakeKylin()
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    STORE: 'memory',
  })
  const logDestination = new Writable({ write: (_chunk, _encoding, done) => done() })
  gateway = await startNodeGateway(config, { logDestination })
  // One query, so every labelled series (histogram buckets among them) has a sample.
  const base = `${gateway.url}/kylin/api/async_query`
  const submitted = await fetch(base, {
    method: 'POST',
    headers: { Authorization: BASIC.ANALYST, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
  })
  const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
  await (
    await fetch(`${base}/${id}/status?wait=10`, { headers: { Authorization: BASIC.ANALYST } })
  ).text()
  const page = await (await fetch(`${gateway.url}/metrics`)).text()
  exported = new Set(
    page
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line)![0]),
  )
})

afterAll(async () => {
  await gateway?.close()
  await kylin?.close()
})

describe('the Grafana dashboard', () => {
  it('queries only metrics the gateway exports', () => {
    expect(queries.length).toBeGreaterThan(10)
    for (const { panel, expr } of queries) {
      const names = toMetricNames(expr)
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0)
      for (const name of names) expect(exported.has(name), `${panel}: ${name}`).toBe(true)
    }
  })

  it("has a panel for each of the gateway's own metrics", () => {
    const used = new Set(queries.flatMap(({ expr }) => toMetricNames(expr)))
    const own = [...exported].filter((name) => name.startsWith('kylin_gateway_'))
    expect(own.length).toBeGreaterThan(8)
    for (const name of own) {
      const family = name.replace(/_(bucket|sum|count)$/, '')
      expect(
        [...used].some((u) => u === name || u.startsWith(family)),
        name,
      ).toBe(true)
    }
  })

  it('is an importable dashboard: uid, datasource and instance variables, panels on the grid', () => {
    expect(dashboard.uid).toBe('kylin-async-gateway')
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['instance', 'query'],
    ])
    for (const panel of panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24)
    }
    for (const { expr } of queries) expect(expr).toContain('instance=~"$instance"')
  })

  it('reads metric names out of PromQL, and so catches a misspelt one', () => {
    expect(
      toMetricNames(
        'histogram_quantile(0.95, sum by (le, call) (rate(kylin_gateway_upstream_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
      ),
    ).toEqual(['kylin_gateway_upstream_duration_seconds_bucket'])
    expect(toMetricNames('sum(kylin_gateway_queries_runing) / clamp_min(x_total, 1)')).toEqual([
      'kylin_gateway_queries_runing',
      'x_total',
    ])
  })
})
