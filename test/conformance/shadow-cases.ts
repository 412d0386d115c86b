/**
 * Conformance cases of shadow runs (KYLIN_SHADOW_URL): each query is run again on a second
 * loopback fake Kylin after its primary run and the verdict shows in status and metadata; the
 * admin-only report lists the mismatches. The shadow upstream is one per test file, started by
 * the targets' start code (`startShadowUpstream`) before the gateway, whose settings it gives.
 */
import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { expect, it } from 'vitest'
import { BASIC, startFakeKylin, type FakeKylin } from '../support/fake-kylin.ts'
import type { ConformanceContext, Envelope } from './suite.ts'

export interface ShadowUpstream {
  kylin: FakeKylin
  /** The KYLIN_SHADOW_URL and SHADOW_* settings a target starts with. */
  settings: Record<string, string>
}

let started: Promise<ShadowUpstream> | undefined

/** The shadow upstream of this test file, started on first use. */
export function startShadowUpstream(): Promise<ShadowUpstream> {
  started ??= (async () => {
    const kylin = await startFakeKylin()
    return {
      kylin,
      settings: {
        KYLIN_SHADOW_URL: kylin.url,
        SHADOW_SAMPLE: '1',
        // Only the cases' own project: every other case's queries stay unshadowed.
        SHADOW_PROJECTS: SHADOW_PROJECT,
        SHADOW_MAX_CONCURRENT: '4',
        SHADOW_MAX_QUEUED: '1000',
      },
    }
  })()
  return started
}

export async function stopShadowUpstream(): Promise<void> {
  if (!started) return
  const { kylin } = await started
  started = undefined
  await kylin.close()
}

/** The project the cases submit to, the one project the targets shadow. */
const SHADOW_PROJECT = 'shadow_conformance'

type Row = (string | null)[]

interface ShadowAnswer {
  status: string
  match: boolean | null
  rows: number | null
  primary_rows: number | null
  sha256: string | null
  first_difference: string | null
  message?: string
}

const COLUMNS = [
  { name: 'ID', type: 'INTEGER', columnType: 4 },
  { name: 'NAME', type: 'VARCHAR', columnType: 12 },
]

const ROWS: Row[] = [
  ['1', 'alpha'],
  ['2', null],
  ['3', 'gamma, "quoted"'],
]

function sendRows(res: ServerResponse, rows: Row[]): void {
  const columnMetas = COLUMNS.map((c) => ({
    isNullable: 1,
    displaySize: 16,
    label: c.name,
    name: c.name,
    schemaName: null,
    catelogName: null,
    tableName: null,
    precision: 16,
    scale: 0,
    columnType: c.columnType,
    columnTypeName: c.type,
    readOnly: true,
  }))
  res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' })
  res.end(
    JSON.stringify({
      columnMetas,
      results: rows,
      cube: null,
      affectedRowCount: 0,
      isException: false,
      exceptionMessage: null,
      duration: 3,
      totalScanCount: rows.length,
      totalScanBytes: 0,
      hitExceptionCache: false,
      storageCacheUsed: false,
      traceUrl: null,
      pushDown: false,
      partial: false,
    }),
  )
}

function sendKylinFailure(res: ServerResponse, message: string): void {
  res.writeHead(500, { 'Content-Type': 'application/json;charset=UTF-8' })
  res.end(JSON.stringify({ code: '999', data: null, msg: message, stacktrace: message }))
}

type Answer = (res: ServerResponse) => void | Promise<void>

export function addShadowCases(context: ConformanceContext): void {
  const { api, submit, waitForEnd } = context

  /** Answers `marker`'s SQL on the primary with ROWS and on the shadow with `shadow`. */
  async function withUpstreams<T>(marker: string, shadow: Answer, run: () => Promise<T>) {
    const primary = context.target().kylin
    const { kylin: second } = await startShadowUpstream()
    primary.setQueryHandler((_req, res, ctx) =>
      ctx.user && ctx.sql.includes(marker) ? sendRows(res, ROWS) : ctx.fallback(),
    )
    second.setQueryHandler((_req, res, ctx) =>
      ctx.user && ctx.sql.includes(marker) ? shadow(res) : ctx.fallback(),
    )
    try {
      return await run()
    } finally {
      primary.setQueryHandler(null)
      second.setQueryHandler(null)
    }
  }

  async function statusOf(id: string, auth: string = BASIC.ANALYST) {
    const json = (await (await api(`/${id}/status`, { auth })).json()) as Envelope<
      Record<string, unknown> & { status: string; shadow?: ShadowAnswer }
    >
    return json.data
  }

  /** The shadow verdict once it is no longer RUNNING. */
  async function waitForShadow(id: string): Promise<ShadowAnswer> {
    const deadline = Date.now() + 30_000
    for (;;) {
      const shadow = (await statusOf(id)).shadow
      expect(shadow).toBeDefined()
      if (shadow!.status !== 'RUNNING' || Date.now() > deadline) return shadow!
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  const newMarker = () => `shadow_${randomUUID().replaceAll('-', '')}`

  it('shadow: runs the query again on the shadow upstream with the same credentials and records a match', async () => {
    const marker = newMarker()
    const { kylin: second } = await startShadowUpstream()
    // The same rows in another order: without ORDER BY that is the same answer.
    const verdict = await withUpstreams(
      marker,
      (res) => sendRows(res, [ROWS[2]!, ROWS[0]!, ROWS[1]!]),
      async () => {
        const id = await submit({
          project: SHADOW_PROJECT,
          sql: `select id, name from t_${marker}`,
        })
        expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
        const shadow = await waitForShadow(id)
        const metadata = (await (await api(`/${id}/metadata`)).json()) as Record<string, unknown>
        expect(metadata.shadow).toEqual(shadow)
        return shadow
      },
    )
    expect(verdict).toEqual({
      status: 'SUCCESSFUL',
      match: true,
      rows: 3,
      primary_rows: 3,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      first_difference: null,
    })
    const asked = second.requests.filter(
      (r) => r.path === '/kylin/api/query' && r.body?.includes(marker),
    )
    expect(asked).toHaveLength(1)
    expect(asked[0]!.headers.authorization).toBe(BASIC.ANALYST)
    expect(JSON.parse(asked[0]!.body!)).toMatchObject({ project: SHADOW_PROJECT })
  })

  it('shadow: a project SHADOW_PROJECTS does not name is not shadowed', async () => {
    const id = await submit({ sql: 'select * from kylin_sales' })
    expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
    expect(await statusOf(id)).not.toHaveProperty('shadow')
    const metadata = (await (await api(`/${id}/metadata`)).json()) as Record<string, unknown>
    expect(metadata).not.toHaveProperty('shadow')
  })

  it('shadow: a result that differs in one row is a mismatch, listed by the admin report', async () => {
    const marker = newMarker()
    const id = await withUpstreams(
      marker,
      (res) => sendRows(res, [ROWS[0]!, ['2', 'beta'], ROWS[2]!]),
      async () => {
        const id = await submit({
          project: SHADOW_PROJECT,
          sql: `select id, name from t_${marker}`,
        })
        const shadow = await waitForShadow(id)
        expect(shadow).toMatchObject({
          status: 'SUCCESSFUL',
          match: false,
          rows: 3,
          primary_rows: 3,
        })
        expect(shadow.first_difference).toContain('rows differ')
        return id
      },
    )
    // The primary's own answer is untouched: its CSV, nothing of the shadow's.
    const csv = await (await api(`/${id}/result`)).text()
    expect(csv).toBe('1,alpha\n2,\n3,"gamma, ""quoted"""\n')

    const refused = await api('/shadow_report?hours=1')
    expect(refused.status).toBe(403)
    const report = (await (
      await api('/shadow_report?hours=1', { auth: BASIC.ADMIN })
    ).json()) as Envelope<{
      compared: number
      mismatches: Record<string, unknown>[]
    }>
    const entry = report.data.mismatches.find((m) => m.query_id === id)
    expect(entry).toEqual({
      query_id: id,
      project: SHADOW_PROJECT,
      user: 'ANALYST',
      sql_digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      primary_rows: 3,
      shadow_rows: 3,
      shadow_status: 'SUCCESSFUL',
      first_difference: expect.stringContaining('rows differ'),
      finished_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect(JSON.stringify(report)).not.toContain(marker)
    expect(JSON.stringify(report)).not.toContain('beta')
  })

  it('shadow: rows in another order differ only under a top-level ORDER BY', async () => {
    const marker = newMarker()
    await withUpstreams(
      marker,
      (res) => sendRows(res, [ROWS[1]!, ROWS[0]!, ROWS[2]!]),
      async () => {
        const unordered = await submit({
          project: SHADOW_PROJECT,
          sql: `select id, name from (select * from t_${marker} order by id) x`,
        })
        const ordered = await submit({
          project: SHADOW_PROJECT,
          sql: `select id, name from t_${marker} order by name`,
        })
        expect(await waitForShadow(unordered)).toMatchObject({ match: true })
        const shadow = await waitForShadow(ordered)
        expect(shadow).toMatchObject({ status: 'SUCCESSFUL', match: false, rows: 3 })
        expect(shadow.first_difference).toMatch(/^row 1 differs/)
      },
    )
  })

  it('shadow: a shadow run that fails is FAILED with its message, the query SUCCESSFUL', async () => {
    const marker = newMarker()
    await withUpstreams(
      marker,
      (res) =>
        sendKylinFailure(res, `Table T_${marker.toUpperCase()} not found in the new cluster`),
      async () => {
        const id = await submit({
          project: SHADOW_PROJECT,
          sql: `select id, name from t_${marker}`,
        })
        expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
        const shadow = await waitForShadow(id)
        expect(shadow).toMatchObject({
          status: 'FAILED',
          match: false,
          rows: null,
          primary_rows: 3,
          sha256: null,
        })
        expect(shadow.message).toContain('not found in the new cluster')
        expect(shadow.first_difference).toContain('the shadow run failed')
      },
    )
  })

  it('shadow: a slow shadow never holds the query back: SUCCESSFUL and downloadable while the shadow runs', async () => {
    const marker = newMarker()
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    await withUpstreams(
      marker,
      async (res) => {
        await held
        sendRows(res, ROWS)
      },
      async () => {
        const id = await submit({
          project: SHADOW_PROJECT,
          sql: `select id, name from t_${marker}`,
        })
        const status = await waitForEnd(id)
        expect(status.status).toBe('SUCCESSFUL')
        const during = await statusOf(id)
        expect(during.shadow).toMatchObject({ status: 'RUNNING', match: null })
        const download = await api(`/${id}/result`)
        expect(download.status).toBe(200)
        expect(await download.text()).toBe('1,alpha\n2,\n3,"gamma, ""quoted"""\n')
        release()
        expect(await waitForShadow(id)).toMatchObject({ status: 'SUCCESSFUL', match: true })
      },
    ).finally(() => release())
  })
}
