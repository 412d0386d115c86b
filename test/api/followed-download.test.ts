/**
 * The followed download of a RUNNING query through the app (`app.request`): a download's type and
 * name without length, validator or ranges; the follow flag's values; what answers 400.
 */
import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/app.ts'
import { BadRequestError } from '../../src/errors.ts'
import { toFollowFlag } from '../../src/api/followed-download.ts'
import { ANALYST, makeTestDeps, toSqlResponse } from '../support/test-deps.ts'

const BODY = toSqlResponse(
  [{ name: 'A', type: 'VARCHAR' }],
  Array.from({ length: 3000 }, (_, i) => [`row ${i}`]),
)

/** A gateway whose upstream sends half its answer, then the rest once `release` is called. */
async function startRunningQuery() {
  const deps = makeTestDeps()
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  deps.setQueryHandler(async () => {
    let sent = false
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(BODY.slice(0, BODY.length / 2)))
      },
      async pull(controller) {
        if (sent) return
        sent = true
        await released
        controller.enqueue(new TextEncoder().encode(BODY.slice(BODY.length / 2)))
        controller.close()
      },
    })
  })
  const { app } = createGateway(deps)
  const request = (path: string, init: RequestInit = {}) =>
    app.request(`/kylin/api/async_query${path}`, {
      ...init,
      headers: { Authorization: ANALYST, ...init.headers },
    })
  const submitted = await request('', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select a', project: 'learn_kylin', file_name: 'live' }),
  })
  const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
  return { deps, request, id, release }
}

describe('api/followed-download', () => {
  it('streams a running query with a download type and name, no length, ETag or ranges', async () => {
    const { deps, request, id, release } = await startRunningQuery()
    const res = await request(`/${id}/result_download?follow=1`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv;charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="live.csv"')
    expect(res.headers.get('accept-ranges')).toBe('none')
    expect(res.headers.get('cache-control')).toBe('private, no-store, no-transform')
    for (const name of ['content-length', 'etag', 'repr-digest', 'last-modified']) {
      expect(res.headers.get(name), name).toBeNull()
    }
    release()
    const text = await res.text()
    await deps.settle()
    const download = await request(`/${id}/result_download`)
    expect(download.status).toBe(200)
    expect(text).toBe(await download.text())
    expect(text.split('\n')).toHaveLength(3001)
  })

  it('answers HEAD with the headers, and 400 to a range, a conversion or a bad flag', async () => {
    const { deps, request, id, release } = await startRunningQuery()
    const head = await request(`/${id}/result?follow=1`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-disposition')).toBe('attachment; filename="result.csv"')
    for (const [query, headers] of [
      ['follow=1', { Range: 'bytes=0-1' }],
      ['follow=1&encode=gbk', {}],
      ['follow=yes', {}],
    ] as const) {
      const res = await request(`/${id}/result?${query}`, { headers })
      expect(res.status, query).toBe(400)
      expect(((await res.json()) as { msg: string }).msg, query).toMatch(/follow/)
    }
    release()
    await deps.settle()
  })

  it('reads the follow flag: 1 / true follow, 0 / false / empty / none do not', () => {
    for (const text of ['1', 'true', 'TRUE']) expect(toFollowFlag(text), text).toBe(true)
    for (const text of ['0', 'false', '', undefined]) expect(toFollowFlag(text), text).toBe(false)
    expect(() => toFollowFlag('2')).toThrow(BadRequestError)
  })
})
