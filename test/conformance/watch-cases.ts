/**
 * Conformance cases of waiting for completion (`?wait=`, `Prefer: wait`) and live events
 * (`/{id}/events`), run on every target. On the cluster target the round-robin balancer sends the
 * submit and the wait (or the stream) to different instances, so the waiter wakes on an end that
 * happened on the other instance: through Redis pub/sub, not its own runner.
 */
import { expect, it } from 'vitest'
import { BASIC } from '../support/fake-kylin.ts'
import { holdQueries } from '../support/held-queries.ts'
import {
  readEventStream,
  toStatusEvent,
  type StatusEvent,
  type StreamMessage,
} from '../support/event-stream.ts'
import type { ConformanceContext, Envelope, Status } from './suite.ts'

const V2 = 'application/vnd.apache.kylin-v2+json'
const V4 = 'application/vnd.apache.kylin-v4-public+json'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The status events of a stream (comments skipped), read one at a time. */
function statusEvents(body: ReadableStream<Uint8Array>) {
  const messages: AsyncGenerator<StreamMessage> = readEventStream(body)
  return {
    async next(): Promise<StatusEvent | undefined> {
      for (;;) {
        const { done, value } = await messages.next()
        if (done) return undefined
        const event = toStatusEvent(value)
        if (event) return event
      }
    },
    async rest(): Promise<StatusEvent[]> {
      const events: StatusEvent[] = []
      for (let event = await this.next(); event; event = await this.next()) events.push(event)
      return events
    },
    close: () => messages.return(undefined),
  }
}

export function addWatchCases(context: ConformanceContext): void {
  const { api, submit } = context
  const statusOf = async (res: Response) => ((await res.json()) as Envelope<Status>).data

  it('wait: answers as soon as the query ends, long before the wait is over', async () => {
    const held = holdQueries(context.target().kylin)
    try {
      const id = await submit({ sql: 'select n from held' }, { accept: V4 })
      const start = Date.now()
      const waiting = api(`/${id}/status?wait=30`, { headers: { Accept: V4 } })
      await sleep(600)
      held.release()
      const res = await waiting
      expect(res.status).toBe(200)
      const status = await statusOf(res)
      expect(status).toMatchObject({ query_id: id, status: 'SUCCESSFUL' })
      const took = Date.now() - start
      expect(took).toBeGreaterThanOrEqual(500)
      expect(took).toBeLessThan(15_000)
    } finally {
      held.restore()
    }
  })

  it('wait: answers RUNNING when its time is up; Prefer: wait is honoured, capped and said so', async () => {
    const held = holdQueries(context.target().kylin)
    try {
      const id = await submit({ sql: 'select n from held' })
      let start = Date.now()
      const timedOut = await api(`/${id}/status?wait=1`)
      expect(await statusOf(timedOut)).toMatchObject({ queryID: id, status: 'RUNNING' })
      expect(timedOut.headers.get('preference-applied')).toBeNull()
      expect(Date.now() - start).toBeGreaterThanOrEqual(900)
      start = Date.now()
      const preferred = await api(`/${id}/status`, { headers: { Prefer: 'wait=1' } })
      expect(preferred.headers.get('preference-applied')).toBe('wait=1')
      expect(await statusOf(preferred)).toMatchObject({ status: 'RUNNING' })
      expect(Date.now() - start).toBeGreaterThanOrEqual(900)
      held.release()
      // Every dialect takes it: here the KAP v2 one, answered in its own shape.
      const capped = await api(`/${id}/status`, {
        headers: { Prefer: 'respond-async, wait=600', Accept: V2 },
      })
      expect(capped.headers.get('preference-applied')).toBe('wait=60')
      expect(capped.headers.get('content-type')).toContain(V2)
      expect(await statusOf(capped)).toMatchObject({ queryID: id, status: 'SUCCESSFUL' })
    } finally {
      held.restore()
    }
  })

  it('wait: refuses a bad wait with a 400 that says what is allowed', async () => {
    const id = await submit({ sql: 'select * from kylin_sales' })
    for (const wait of ['61', 'abc', '-1', '1.5', '']) {
      const res = await api(`/${id}/status?wait=${wait}`)
      expect(res.status, wait).toBe(400)
      const body = (await res.json()) as Envelope
      expect(body.code).toBe('999')
      expect(body.msg).toContain('whole number of seconds from 0 to 60')
    }
  })

  it("wait and events: another user's query is 403 at once, an unknown one MISSING / 404", async () => {
    const held = holdQueries(context.target().kylin)
    try {
      const id = await submit({ sql: 'select n from held' })
      const start = Date.now()
      for (const path of [`/${id}/status?wait=20`, `/${id}/events`]) {
        const other = await api(path, { auth: BASIC.MODELER, headers: { Prefer: 'wait=20' } })
        expect(other.status, path).toBe(403)
        const body = (await other.json()) as Envelope
        expect(body.msg).toMatch(/^Access denied/)
      }
      expect(Date.now() - start).toBeLessThan(10_000)
      const unknown = crypto.randomUUID()
      const missing = await api(`/${unknown}/status?wait=20`)
      expect(await statusOf(missing)).toMatchObject({ status: 'MISSING' })
      const noStream = await api(`/${unknown}/events`)
      expect(noStream.status).toBe(404)
      expect(((await noStream.json()) as Envelope).code).toBe('999')
      // An admin may follow anyone's query.
      const admin = await api(`/${id}/events`, { auth: BASIC.ADMIN })
      expect(admin.status).toBe(200)
      const events = statusEvents(admin.body!)
      expect((await events.next())?.data.status).toBe('RUNNING')
      await events.close()
    } finally {
      held.restore()
    }
  })

  it('events: RUNNING progress at most once a second, then the final event, then the close', async () => {
    const held = holdQueries(context.target().kylin)
    try {
      const id = await submit({ sql: 'select n from held' })
      const res = await api(`/${id}/events`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
      expect(res.headers.get('cache-control')).toBe('no-cache')
      const events = statusEvents(res.body!)
      const running: (StatusEvent & { at: number })[] = []
      const deadline = Date.now() + 20_000
      // Until progress shows: rows written so far.
      while (Date.now() < deadline) {
        const event = await events.next()
        expect(event?.data.status).toBe('RUNNING')
        running.push({ ...event!, at: Date.now() })
        if (event!.data.rows! > 0 && running.length >= 2) break
      }
      held.release()
      const rest = await events.rest()
      const final = rest.at(-1)!
      expect(final.data.status).toBe('SUCCESSFUL')
      for (const event of rest.slice(0, -1)) expect(event.data.status).toBe('RUNNING')
      for (let i = 1; i < running.length; i++) {
        expect(running[i]!.at - running[i - 1]!.at).toBeGreaterThanOrEqual(800)
        expect(running[i]!.id).toBeGreaterThan(running[i - 1]!.id)
      }
      expect(final.id).toBeGreaterThan(running.at(-1)!.id)
      // The final event tells what the status tells.
      const status = (await statusOf(await api(`/${id}/status`))) as Status &
        Record<string, unknown>
      expect(final.data).toEqual({
        status: 'SUCCESSFUL',
        rows: status.rows,
        bytes: status.bytes,
        info: 'await fetching results',
        sha256: status.sha256,
      })
      expect(final.data.rows).toBeGreaterThan(running.at(-1)!.data.rows!)
    } finally {
      held.restore()
    }
  })

  it('events: Last-Event-ID resumes without repeating, and a finished query answers its end or nothing', async () => {
    const held = holdQueries(context.target().kylin)
    try {
      const id = await submit({ sql: 'select n from held' })
      const first = statusEvents((await api(`/${id}/events`)).body!)
      const seen = (await first.next())!
      await first.close()
      const resumed = await api(`/${id}/events`, {
        headers: { 'Last-Event-ID': String(seen.id) },
      })
      const again = statusEvents(resumed.body!)
      const next = (await again.next())!
      expect(next.id).toBeGreaterThan(seen.id)
      held.release()
      const rest = await again.rest()
      const final = rest.at(-1) ?? next
      expect(final.data.status).toBe('SUCCESSFUL')

      const ended = await api(`/${id}/events`, { headers: { 'Last-Event-ID': String(final.id) } })
      expect(ended.status).toBe(200)
      expect(await statusEvents(ended.body!).rest()).toEqual([])
      const behind = await api(`/${id}/events`, { headers: { 'Last-Event-ID': String(seen.id) } })
      expect(await statusEvents(behind.body!).rest()).toEqual([final])
      const fresh = await api(`/${id}/events`)
      expect(await statusEvents(fresh.body!).rest()).toEqual([final])
    } finally {
      held.restore()
    }
  })
}
