/**
 * The runner's webhook seam: one event per query that ended with a callback URL, for the record
 * it ended with — SUCCESSFUL, FAILED, stopped, or deleted while it ran — and none without one.
 */
import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/app.ts'
import { parseConfig } from '../../src/config/config.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import type { WebhookNotifier } from '../../src/webhooks/types.ts'
import { ANALYST, makeTestDeps, toSqlResponse, toStream } from '../support/test-deps.ts'

const WEBHOOK_SETTINGS = parseConfig({
  KYLIN_UPSTREAM_URL: 'http://kylin.test:7070',
  WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
  WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com',
}).webhooks

function setup() {
  const deps = makeTestDeps({ webhooks: WEBHOOK_SETTINGS })
  const events: { record: QueryRecord; url: string }[] = []
  const notifier: WebhookNotifier = {
    queryEnded: async (record, url) => void events.push({ record, url }),
  }
  deps.webhooks = notifier
  const gateway = createGateway(deps)
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await gateway.app.request(`/kylin/api/async_query${path}`, {
      method,
      headers: { Authorization: ANALYST, 'Content-Type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    return { status: res.status, json: (await res.json()) as { data: { queryID: string } } }
  }
  const submit = async (sql: string, callback?: string) =>
    (
      await call('POST', '', {
        sql,
        project: 'learn_kylin',
        ...(callback ? { callback_url: callback } : {}),
      })
    ).json.data.queryID
  return { deps, events, call, submit }
}

/** An upstream that holds `slow` queries until aborted. */
function holdSlowQueries(deps: ReturnType<typeof makeTestDeps>) {
  deps.setQueryHandler(async (query, _credentials, signal) => {
    if (query.sql.startsWith('slow')) {
      await new Promise((_, reject) =>
        signal!.addEventListener('abort', () => reject(signal!.reason), { once: true }),
      )
    }
    if (query.sql.startsWith('bad')) throw new Error('Table BAD not found')
    return toStream(toSqlResponse([{ name: 'X', type: 'INTEGER' }], [['1'], ['2']]))
  })
}

describe('runner webhooks', () => {
  it('queues one event for a SUCCESSFUL and one for a FAILED query, with their final records', async () => {
    const { deps, events, submit } = setup()
    holdSlowQueries(deps)
    const ok = await submit('select 1', 'https://hooks.example.com/a?token=1')
    const bad = await submit('bad select', 'https://hooks.example.com/b')
    await deps.settle()
    expect(events).toHaveLength(2)
    const byId = new Map(events.map((e) => [e.record.id, e]))
    expect(byId.get(ok)).toMatchObject({
      url: 'https://hooks.example.com/a?token=1',
      record: { state: 'SUCCESSFUL', rows: 2, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    })
    expect(byId.get(bad)).toMatchObject({
      url: 'https://hooks.example.com/b',
      record: { state: 'FAILED', error: expect.stringContaining('Table BAD not found') },
    })
  })

  it('queues nothing for a query without a callback_url', async () => {
    const { deps, events, submit } = setup()
    await submit('select 1')
    await deps.settle()
    expect(events).toEqual([])
  })

  it('queues a FAILED event for a stopped query and for one deleted while it ran', async () => {
    const { deps, events, submit, call } = setup()
    holdSlowQueries(deps)
    const stopped = await submit('slow stop', 'https://hooks.example.com/s')
    const deleted = await submit('slow delete', 'https://hooks.example.com/d')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect((await call('DELETE', `/stop/${stopped}`)).status).toBe(200)
    expect((await call('DELETE', `/${deleted}`)).status).toBe(200)
    await deps.settle()
    expect(events).toHaveLength(2)
    const byId = new Map(events.map((e) => [e.record.id, e.record]))
    expect(byId.get(stopped)).toMatchObject({
      state: 'FAILED',
      error: 'The query was stopped by ANALYST before it finished.',
    })
    expect(byId.get(deleted)).toMatchObject({
      id: deleted,
      state: 'FAILED',
      error: 'The query was deleted before it finished.',
      project: 'learn_kylin',
      finishedAt: expect.any(Number),
    })
    // The record itself is gone: the event is all that is left of it.
    expect(await deps.registry.get(deleted)).toBeNull()
  })
})
