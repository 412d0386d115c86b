/**
 * Conformance cases of the query list (`GET /kylin/api/async_query`) and result reuse
 * (`reuse_max_age`), run on every target by suite.ts. Each case works in a project of its own,
 * so queries of other cases never show in its lists.
 */
import { randomUUID } from 'node:crypto'
import { expect, it } from 'vitest'
import { BASIC } from '../support/fake-kylin.ts'
import type { ConformanceContext, Envelope, Status } from './suite.ts'

const V4 = 'application/vnd.apache.kylin-v4-public+json'

interface Listed {
  queryID?: string
  query_id?: string
  status: string
  project: string
  owner: string
  submitted_at: number
  finished_at: number | null
  rows: number
  bytes: number
}

interface ListAnswer {
  queries: Listed[]
  next_cursor: string | null
}

type SubmitAnswer = Status & { reused?: boolean }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function addListreuseCases({ api, submit, waitForEnd, target }: ConformanceContext): void {
  const newProject = () => `lr_${randomUUID().slice(0, 8)}`

  const list = async (query: string, auth: string = BASIC.ANALYST, accept?: string) => {
    const res = await api(`?${query}`, { auth, ...(accept ? { headers: { Accept: accept } } : {}) })
    const text = await res.text()
    return { status: res.status, text, json: JSON.parse(text) as Envelope<ListAnswer> }
  }

  /** Submits and waits for the end; distinct submit times keep the expected order certain. */
  const run = async (body: Record<string, unknown>, auth: string = BASIC.ANALYST) => {
    const id = await submit(body, { auth })
    await waitForEnd(id, auth)
    await sleep(3)
    return id
  }

  const post = async (
    body: Record<string, unknown>,
    auth: string = BASIC.ANALYST,
    headers: Record<string, string> = {},
  ) => {
    const res = await api('', {
      method: 'POST',
      auth,
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    return { status: res.status, json: (await res.json()) as Envelope<SubmitAnswer> }
  }

  /** The upstream query calls whose SQL holds `marker`. */
  const upstreamCalls = (marker: string) =>
    target().kylin.requests.filter((r) => r.path === '/kylin/api/query' && r.body?.includes(marker))
      .length

  it('lists your own queries newest first, with status, project, times, rows and bytes', async () => {
    const project = newProject()
    const first = await run({ project, sql: 'select * from kylin_sales' })
    const failed = await run({ project, sql: 'select * from no_such_table' })
    const last = await run({ project, sql: 'select * from rows_20' })
    const { status, json, text } = await list(`project=${project}`)
    expect(status).toBe(200)
    expect(json.code).toBe('000')
    expect(json.msg).toBe('')
    expect(json.data.next_cursor).toBeNull()
    expect(json.data.queries.map((q) => q.queryID)).toEqual([last, failed, first])
    const [rows20, bad, sales] = json.data.queries
    const size = (await (await api(`/${first}/file_status`)).json()) as Envelope<number>
    expect(sales).toMatchObject({
      status: 'SUCCESSFUL',
      project,
      owner: 'ANALYST',
      bytes: size.data,
    })
    expect(sales!.rows).toBeGreaterThan(0)
    expect(rows20).toMatchObject({ status: 'SUCCESSFUL', rows: 20 })
    expect(bad).toMatchObject({ status: 'FAILED', rows: 0, bytes: 0 })
    for (const query of json.data.queries) {
      expect(Object.keys(query).sort()).toEqual([
        'bytes',
        'finished_at',
        'owner',
        'project',
        'queryID',
        'rows',
        'status',
        'submitted_at',
      ])
      expect(query.finished_at).toBeGreaterThanOrEqual(query.submitted_at)
      expect(Math.abs(query.submitted_at - Date.now())).toBeLessThan(120_000)
    }
    // Never SQL, not even the caller's own.
    expect(text).not.toMatch(/kylin_sales|no_such_table|select/i)
    // Kylin 5's dialect names the id as its other answers do.
    const v4 = await list(`project=${project}&limit=1`, BASIC.ANALYST, V4)
    const { queryID: _legacy, ...rest } = rows20!
    expect(v4.json.data.queries).toEqual([{ ...rest, query_id: last }])
  })

  it('filters by status and project, pages with a cursor new queries do not shift, and refuses bad parameters', async () => {
    const project = newProject()
    const other = newProject()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(await run({ project, sql: `select 'page ${i}'` }))
    const failing = await run({ project, sql: 'select * from no_such_table' })
    await run({ project: other, sql: 'select 1' })
    const newestFirst = [failing, ...ids.slice().reverse()]

    const failed = await list(`project=${project}&status=FAILED`)
    expect(failed.json.data.queries.map((q) => q.queryID)).toEqual([failing])
    const succeeded = await list(`project=${project}&status=SUCCESSFUL`)
    expect(succeeded.json.data.queries.map((q) => q.queryID)).toEqual(ids.slice().reverse())
    expect((await list(`project=${project}&status=RUNNING`)).json.data.queries).toEqual([])

    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const page = await list(`project=${project}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.status).toBe(200)
      pages.push(page.json.data.queries.map((q) => q.queryID!))
      cursor = page.json.data.next_cursor
      // A query submitted while paging is newer than every page: it shifts none of them.
      if (pages.length === 1) await run({ project, sql: 'select 99' })
    } while (cursor && pages.length < 10)
    expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)])

    for (const [query, field] of [
      ['status=DONE', 'status'],
      ['status=MISSING', 'status'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'next_cursor'],
    ] as const) {
      const refused = await list(query)
      expect(refused.status, query).toBe(400)
      expect(refused.json.code).toBe('999')
      expect(refused.json.msg, query).toContain(field)
    }
  })

  it("never lists another user's queries to a non-admin; an admin sees all and filters by user", async () => {
    const project = newProject()
    const mine = await run({ project, sql: 'select 1' })
    const theirs = await run({ project, sql: 'select 1' }, BASIC.MODELER)
    const own = await list(`project=${project}`)
    expect(own.json.data.queries.map((q) => q.queryID)).toEqual([mine])
    expect((await list(`project=${project}&user=ANALYST`)).json.data.queries).toHaveLength(1)
    const refused = await list(`project=${project}&user=MODELER`)
    expect(refused.status).toBe(403)
    expect(refused.json.msg).toBe(
      'Access denied. Only admin users can list the queries of another user',
    )
    expect(refused.text).not.toContain(theirs)
    const modeler = await list(`project=${project}`, BASIC.MODELER)
    expect(modeler.json.data.queries.map((q) => q.queryID)).toEqual([theirs])

    const all = await list(`project=${project}`, BASIC.ADMIN)
    expect(all.json.data.queries.map((q) => [q.queryID, q.owner])).toEqual([
      [theirs, 'MODELER'],
      [mine, 'ANALYST'],
    ])
    const one = await list(`project=${project}&user=MODELER`, BASIC.ADMIN)
    expect(one.json.data.queries.map((q) => q.queryID)).toEqual([theirs])
    // The admin's own list is theirs alone only when asked: here, nobody's in this project.
    expect((await list(`project=${project}&user=ADMIN`, BASIC.ADMIN)).json.data.queries).toEqual([])
  })

  it('answers a submit with reuse_max_age with your earlier result, without calling Kylin again', async () => {
    const project = newProject()
    const marker = `reuse-${randomUUID()}`
    const sql = `select  '${marker}' ,\n 1`
    const first = await run({ project, sql })
    expect(upstreamCalls(marker)).toBe(1)

    // The same query, spaced differently outside its quotes.
    const again = await post({ project, sql: `  select '${marker}' , 1 `, reuse_max_age: 3600 })
    expect(again.status).toBe(200)
    expect(again.json).toEqual({
      code: '000',
      data: {
        queryID: first,
        status: 'SUCCESSFUL',
        info: 'query success: the result of the same query, finished earlier, was reused',
        reused: true,
      },
      msg: '',
    })
    const v4 = await api('', {
      method: 'POST',
      headers: { Accept: V4, 'Content-Type': 'application/json' },
      body: JSON.stringify({ project, sql, reuse_max_age: '3600' }),
    })
    expect(((await v4.json()) as Envelope<SubmitAnswer>).data).toMatchObject({
      query_id: first,
      status: 'SUCCESSFUL',
      reused: true,
    })
    expect(upstreamCalls(marker)).toBe(1)
    // Polling it is polling the earlier query: SUCCESSFUL, its result downloads.
    expect(await waitForEnd(first)).toMatchObject({ status: 'SUCCESSFUL', rows: 1 })
    expect((await api(`/${first}/result`)).status).toBe(200)
    // The reused answer made no new query, so the list still holds one.
    expect((await list(`project=${project}`)).json.data.queries).toHaveLength(1)

    // Without reuse_max_age it runs again, as before.
    const fresh = await post({ project, sql })
    expect(fresh.json.data.reused).toBeUndefined()
    expect(fresh.json.data.queryID).not.toBe(first)
    await waitForEnd(fresh.json.data.queryID!)
    expect(upstreamCalls(marker)).toBe(2)

    // An Idempotency-Key repeat answers the same, reused or not.
    const key = `lr-${randomUUID()}`
    const keyed = await post({ project, sql, reuse_max_age: 3600 }, BASIC.ANALYST, {
      'Idempotency-Key': key,
    })
    const repeated = await post({ project, sql, reuse_max_age: 3600 }, BASIC.ANALYST, {
      'Idempotency-Key': key,
    })
    expect(keyed.json.data).toMatchObject({ status: 'SUCCESSFUL', reused: true })
    expect(repeated.json.data.queryID).toBe(keyed.json.data.queryID)
    expect(upstreamCalls(marker)).toBe(2)
  })

  it('never reuses across users, past the max age, after a delete, or for another query or options', async () => {
    const project = newProject()
    const marker = `noreuse-${randomUUID()}`
    const sql = `select '${marker}  spaced'`
    const first = await run({ project, sql })
    const reuse = async (body: Record<string, unknown>, auth?: string) => {
      const answer = await post({ project, sql, reuse_max_age: 3600, ...body }, auth)
      expect(answer.status).toBe(200)
      return answer.json.data
    }
    expect((await reuse({})).queryID).toBe(first)

    const cases: [string, Record<string, unknown>, string?][] = [
      ['another user', {}, BASIC.MODELER],
      ['whitespace inside the quotes', { sql: `select '${marker} spaced'` }],
      ['other SQL', { sql: `SELECT '${marker}  spaced'` }],
      ['another separator', { separator: ';' }],
      ['a header row', { include_header: true }],
      ['another format', { format: 'json' }],
      ['another file name', { file_name: 'other' }],
      ['another limit', { limit: 10 }],
      ['another offset', { offset: 1 }],
      ['another project', { project: newProject() }],
    ]
    for (const [why, body, auth] of cases) {
      const answer = await reuse(body, auth)
      expect(answer.queryID, why).not.toBe(first)
      expect(answer.reused, why).toBeUndefined()
      expect(answer.status, why).toBe('RUNNING')
      await waitForEnd(answer.queryID!, auth)
    }
    expect(upstreamCalls(marker)).toBe(1 + cases.length)

    // Past the max age (by its finish time): it runs again.
    await sleep(1100)
    const aged = await reuse({ reuse_max_age: 1 })
    expect(aged.queryID).not.toBe(first)
    expect(aged.reused).toBeUndefined()
    await waitForEnd(aged.queryID!)
    // Now the newer one is what a reuse finds.
    expect(await reuse({})).toMatchObject({ queryID: aged.queryID, reused: true })

    // Deleted: nothing to reuse, so it runs.
    await api(`/${aged.queryID}`, { method: 'DELETE' })
    await api(`/${first}`, { method: 'DELETE' })
    const afterDelete = await reuse({})
    expect(afterDelete.reused).toBeUndefined()
    expect([first, aged.queryID]).not.toContain(afterDelete.queryID)
    await waitForEnd(afterDelete.queryID!)

    // A FAILED query is never reused.
    const failing = await run({ project, sql: 'select * from no_such_table' })
    const retried = await reuse({ sql: 'select * from no_such_table' })
    expect(retried.queryID).not.toBe(failing)
    expect(retried.status).toBe('RUNNING')

    for (const bad of [-1, 'soon', 2_592_001]) {
      const refused = await post({ project, sql, reuse_max_age: bad })
      expect(refused.status, String(bad)).toBe(400)
      expect(refused.json.msg).toContain('reuse_max_age')
    }
  })
}
