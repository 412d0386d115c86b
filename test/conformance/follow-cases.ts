/**
 * Conformance cases of following a running result (`GET …/result?follow=1`), run on every target.
 * The fake Kylin writes its answer in two pieces and holds the second until the case releases it,
 * so a follower is seen to get bytes while the query still runs. Each case starts two followers
 * at once: behind the cluster's round-robin balancer one lands on the instance that runs the
 * query (live bytes) and one on the other (the stored file once the query ends). Where followers
 * wait for the end (Workers), the same cases check they get the whole download, or a 404.
 */
import { expect, it } from 'vitest'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import { BASIC, toGeneratedRow, type FakeKylin } from '../support/fake-kylin.ts'
import { toSqlResponse } from '../support/test-deps.ts'
import type { ConformanceContext, Envelope } from './suite.ts'

const COLUMNS = [
  { name: 'ID', type: 'VARCHAR' },
  { name: 'NAME', type: 'VARCHAR' },
  { name: 'PRICE', type: 'VARCHAR' },
]
const ROWS = Array.from({ length: 10_000 }, (_, i) => toGeneratedRow(i + 1))
/** Rows in the first piece: well past one 64 KiB chunk of CSV, so the export writes some. */
const FIRST_PIECE_ROWS = 6_000
const EXPECTED_CSV = ROWS.map((row) => encodeCsvRow(row, ',')).join('')

type Ending = 'finish' | 'reset' | 'broken-json'

/**
 * Takes over the fake's query answer: the first piece at once, then, once `release` is called,
 * the rest (`finish`), a reset connection, or text that is no JSON.
 */
function holdUpstream(kylin: FakeKylin, ending: Ending) {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  const body = toSqlResponse(COLUMNS, ROWS)
  const cut = body.indexOf(JSON.stringify(ROWS[FIRST_PIECE_ROWS]))
  kylin.setQueryHandler(async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' })
    res.write(body.slice(0, cut))
    await released
    if (ending === 'finish') res.end(body.slice(cut))
    else if (ending === 'reset') res.destroy()
    else res.end('this is no JSON}')
  })
  return {
    release,
    restore() {
      release()
      kylin.setQueryHandler(null)
    },
  }
}

/** Reads a response body to its end in the background, keeping count of what came so far. */
function collect(res: Response) {
  const chunks: Uint8Array[] = []
  let received = 0
  const reader = res.body!.getReader()
  const done = (async () => {
    for (;;) {
      const next = await reader.read()
      if (next.done) return Buffer.concat(chunks).toString('utf8')
      chunks.push(next.value)
      received += next.value.byteLength
    }
  })()
  // A rejection is asserted by the case; until then it must not count as unhandled.
  done.catch(() => {})
  return {
    done,
    get received() {
      return received
    },
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export function addFollowCases(context: ConformanceContext): void {
  const { api, submit, waitForEnd } = context

  const live = () => context.target().followsLive !== false

  /** Two followers of `id`, started at once; each answer checked as a followed download. */
  async function startFollowers(id: string, path = 'result') {
    const answers = await Promise.all([
      api(`/${id}/${path}?follow=1`),
      api(`/${id}/${path}?follow=1`),
    ])
    for (const res of answers) {
      expect(res.status).toBe(200)
      expect(res.headers.get('content-length')).toBeNull()
      expect(res.headers.get('etag')).toBeNull()
      expect(res.headers.get('accept-ranges')).toBe('none')
    }
    return answers.map(collect)
  }

  /**
   * Where followers wait for the end: two of them, started at once, are still unanswered while
   * the query runs. The answers come once `end` has ended it.
   */
  async function startWaitingFollowers(id: string, path = 'result') {
    let answered = false
    const answers = Promise.all([
      api(`/${id}/${path}?follow=1`),
      api(`/${id}/${path}?follow=1`),
    ]).finally(() => (answered = true))
    answers.catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(answered).toBe(false)
    expect(await statusOf(id)).toBe('RUNNING')
    // Wrapped: an async function's promise would otherwise wait for the answers themselves.
    return { answers }
  }

  /** A follower whose query did not end SUCCESSFUL: its body read rejects. */
  async function expectAborted(follower: ReturnType<typeof collect>) {
    await expect(follower.done).rejects.toThrow()
  }

  /** Where followers wait: each answer is the 404 of a download of a query not SUCCESSFUL. */
  async function expectNotFound(answers: Promise<Response[]>) {
    for (const res of await answers) {
      expect(res.status).toBe(404)
      await res.body?.cancel()
    }
  }

  async function statusOf(id: string): Promise<string> {
    const res = await api(`/${id}/status`)
    return ((await res.json()) as Envelope<{ status: string }>).data.status
  }

  it('follow=1 streams a running result as it is written; the whole equals the download', async () => {
    const upstream = holdUpstream(context.target().kylin, 'finish')
    try {
      const id = await submit({ sql: 'select * from rows_10000', file_name: 'live' })
      if (!live()) {
        const { answers } = await startWaitingFollowers(id, 'result_download')
        upstream.release()
        const followed = await answers
        expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
        const download = await api(`/${id}/result_download`)
        const whole = await download.text()
        expect(whole).toBe(EXPECTED_CSV)
        for (const res of followed) {
          expect(res.status).toBe(200)
          expect(res.headers.get('content-length')).toBe(String(whole.length))
          expect(res.headers.get('etag')).toBe(download.headers.get('etag'))
          expect(await res.text()).toBe(whole)
        }
        return
      }
      const head = await api(`/${id}/result_download?follow=1`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers.get('content-disposition')).toBe('attachment; filename="live.csv"')
      expect(head.headers.get('content-type')).toMatch(/csv/)
      expect(head.headers.get('content-length')).toBeNull()
      const followers = await startFollowers(id, 'result_download')
      // Bytes arrive while the upstream still holds back the rest of its answer.
      await until(() => followers.some((f) => f.received > 0), 'the first followed bytes')
      expect(await statusOf(id)).toBe('RUNNING')
      upstream.release()
      const bodies = await Promise.all(followers.map((f) => f.done))
      expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
      const download = await api(`/${id}/result_download`)
      expect(download.status).toBe(200)
      const whole = await download.text()
      expect(whole).toBe(EXPECTED_CSV)
      for (const body of bodies) expect(body).toBe(whole)
    } finally {
      upstream.restore()
    }
  })

  for (const ending of ['reset', 'broken-json'] as const) {
    it(`a followed query that fails mid-body (${ending}) aborts the follower, never a clean end`, async () => {
      const upstream = holdUpstream(context.target().kylin, ending)
      try {
        const id = await submit({ sql: 'select * from rows_10000' })
        if (!live()) {
          const { answers } = await startWaitingFollowers(id)
          upstream.release()
          await expectNotFound(answers)
          expect((await waitForEnd(id)).status).toBe('FAILED')
          return
        }
        const followers = await startFollowers(id)
        await until(() => followers.some((f) => f.received > 0), 'the first followed bytes')
        upstream.release()
        for (const follower of followers) await expectAborted(follower)
        expect((await waitForEnd(id)).status).toBe('FAILED')
      } finally {
        upstream.restore()
      }
    })
  }

  for (const [action, path] of [
    ['a DELETE', ''],
    ['a stop', '/stop'],
  ] as const) {
    it(`${action} while following aborts the follower`, async () => {
      const upstream = holdUpstream(context.target().kylin, 'finish')
      try {
        const id = await submit({ sql: 'select * from rows_10000' })
        if (!live()) {
          const { answers } = await startWaitingFollowers(id)
          expect((await api(`${path}/${id}`, { method: 'DELETE' })).status).toBe(200)
          await expectNotFound(answers)
          return
        }
        const followers = await startFollowers(id)
        await until(() => followers.some((f) => f.received > 0), 'the first followed bytes')
        expect((await api(`${path}/${id}`, { method: 'DELETE' })).status).toBe(200)
        for (const follower of followers) await expectAborted(follower)
      } finally {
        upstream.restore()
      }
    })
  }

  it('follow=1 on a SUCCESSFUL query is a plain download; on a FAILED one a 404', async () => {
    const id = await submit({ sql: 'select * from kylin_sales' })
    expect((await waitForEnd(id)).status).toBe('SUCCESSFUL')
    const plain = await api(`/${id}/result`)
    const followed = await api(`/${id}/result?follow=1`)
    expect(followed.status).toBe(200)
    expect(followed.headers.get('etag')).toBe(plain.headers.get('etag'))
    expect(followed.headers.get('content-length')).toBe(plain.headers.get('content-length'))
    expect(await followed.text()).toBe(await plain.text())
    const range = await api(`/${id}/result?follow=true`, { headers: { Range: 'bytes=0-4' } })
    expect(range.status).toBe(206)
    expect(await range.text()).toBe('0,201')

    const failed = await submit({ sql: 'select * from no_such_table' })
    expect((await waitForEnd(failed)).status).toBe('FAILED')
    expect((await api(`/${failed}/result?follow=1`)).status).toBe(404)
  })

  it("following another user's running query is a 403; a range or conversion with it a 400", async () => {
    const upstream = holdUpstream(context.target().kylin, 'finish')
    try {
      const id = await submit({ sql: 'select * from rows_10000' })
      const other = await api(`/${id}/result?follow=1`, { auth: BASIC.MODELER })
      expect(other.status).toBe(403)
      expect(((await other.json()) as Envelope).msg).toBe(
        'Access denied. Only task submitters or admin users can download the query results',
      )
      for (const [query, headers] of [
        ['follow=1', { Range: 'bytes=0-9' }],
        ['follow=1&format=json', {}],
        ['follow=1&include_header=true', {}],
        ['follow=perhaps', {}],
      ] as const) {
        const res = await api(`/${id}/result?${query}`, { headers })
        expect(res.status, query).toBe(400)
        expect(((await res.json()) as Envelope).msg, query).toMatch(/follow/)
      }
      // Without follow a running query is not downloadable yet, as before.
      expect((await api(`/${id}/result`)).status).toBe(404)
      expect((await api(`/${id}`, { method: 'DELETE' })).status).toBe(200)
    } finally {
      upstream.restore()
    }
  })
}
