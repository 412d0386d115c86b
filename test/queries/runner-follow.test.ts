/**
 * The runner's tee: a follower of a running query gets the bytes the runner stores, before the
 * query ends, and its stream ends only once the result is recorded SUCCESSFUL; a failure or a
 * stop errors it. A query nobody follows leaves nothing behind in the live results. Where the
 * store gives chunks back for reuse, a follower still gets bytes of its own.
 */
import { describe, expect, it } from 'vitest'
import type { QueryRecord } from '../../src/domain/query.ts'
import { toResultKey } from '../../src/domain/query-id.ts'
import { createLimiter } from '../../src/queries/limiter.ts'
import { createLiveResults, FollowAbortedError } from '../../src/queries/live-results.ts'
import { createQueryRunner } from '../../src/queries/runner.ts'
import type { BlobStore, PutOptions } from '../../src/store/types.ts'
import { ANALYST, makeTestDeps, toSqlResponse } from '../support/test-deps.ts'

const ID = '00000000-0000-4000-8000-00000000f011'
const COLUMNS = [
  { name: 'ID', type: 'VARCHAR' },
  { name: 'NAME', type: 'VARCHAR' },
]
const ROWS = Array.from({ length: 20_000 }, (_, i) => [String(i), `name ${i}`])
const BODY = toSqlResponse(COLUMNS, ROWS)
const CUT = BODY.indexOf(JSON.stringify(ROWS[12_000]))

/** An upstream body: its first piece at once, the rest (or a failure) once `release` is called. */
function heldBody(ending: 'finish' | 'fail') {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let sent = false
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(BODY.slice(0, CUT)))
    },
    async pull(controller) {
      if (sent) return
      sent = true
      await released
      if (ending === 'fail') return controller.error(new Error('connection reset'))
      controller.enqueue(new TextEncoder().encode(BODY.slice(CUT)))
      controller.close()
    },
  })
  return { body, release }
}

async function startQuery(storeOf: (store: BlobStore) => BlobStore = (store) => store) {
  const deps = makeTestDeps()
  const live = createLiveResults()
  const runner = createQueryRunner({ ...deps, store: storeOf(deps.store), live }, createLimiter(4))
  const record: QueryRecord = {
    id: ID,
    owner: 'ANALYST',
    project: 'learn_kylin',
    options: { separator: ',', includeHeader: false, fileName: 'result' },
    state: 'RUNNING',
    rows: 0,
    bytes: 0,
    createdAt: 1,
    updatedAt: 1,
  }
  await deps.registry.create(record)
  const start = () =>
    runner.start(
      record,
      { sql: 'select 1', project: 'learn_kylin', offset: 0, limit: 0, acceptPartial: false },
      { authorization: ANALYST },
    )
  return { deps, runner, live, start }
}

/** Runs the query on `upstream` and follows it: the follower's reader, nothing read yet. */
async function startFollowing(
  { deps, runner, start }: Awaited<ReturnType<typeof startQuery>>,
  upstream: ReturnType<typeof heldBody>,
) {
  deps.setQueryHandler(async () => upstream.body)
  await start()
  const followed = await runner.follow!(ID)
  if (!(followed instanceof ReadableStream)) throw new Error('not followed')
  return followed.getReader()
}

async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>, chunks: Uint8Array[]) {
  for (;;) {
    const next = await reader.read()
    if (next.done) return new TextDecoder().decode(Buffer.concat(chunks))
    chunks.push(next.value)
  }
}

describe('queries/runner following', () => {
  it('tees the stored bytes to a follower before the query ends; the whole equals the file', async () => {
    const query = await startQuery()
    const { deps } = query
    const upstream = heldBody('finish')
    const reader = await startFollowing(query, upstream)
    const first = await reader.read()
    expect(first.value!.byteLength).toBeGreaterThan(0)
    expect((await deps.registry.get(ID))!.state).toBe('RUNNING')
    upstream.release()
    const text = await readRest(reader, [first.value!])
    await deps.settle()
    const record = (await deps.registry.get(ID))!
    expect(record.state).toBe('SUCCESSFUL')
    const stored = await new Response((await deps.store.get(toResultKey(ID)))!.body).text()
    expect(text).toBe(stored)
    expect(text.split('\n')).toHaveLength(ROWS.length + 1)
  })

  it('gives a follower bytes of its own where the store gives chunks back for reuse', async () => {
    let givenBack = 0
    // A store that keeps a copy of each chunk, then spoils it and gives it back at once.
    const recycling = (store: BlobStore): BlobStore =>
      Object.assign(Object.create(store) as BlobStore, {
        givesBack: true,
        put: (key: string, body: ReadableStream<Uint8Array>, options?: PutOptions) => {
          const copied = body.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, controller) {
                controller.enqueue(chunk.slice())
                chunk.fill(0x21)
                options?.giveBack?.(chunk)
                givenBack++
              },
            }),
          )
          return store.put(key, copied, { signal: options?.signal })
        },
      })
    const query = await startQuery(recycling)
    const { deps } = query
    const upstream = heldBody('finish')
    const reader = await startFollowing(query, upstream)
    const first = await reader.read()
    upstream.release()
    const text = await readRest(reader, [first.value!])
    await deps.settle()
    expect((await deps.registry.get(ID))!.state).toBe('SUCCESSFUL')
    const stored = await new Response((await deps.store.get(toResultKey(ID)))!.body).text()
    expect(givenBack).toBeGreaterThan(2)
    expect(text).toBe(stored)
    expect(text.split('\n')).toHaveLength(ROWS.length + 1)
  })

  it('errors the follower when the upstream fails mid-body', async () => {
    const query = await startQuery()
    const { deps } = query
    const upstream = heldBody('fail')
    const reader = await startFollowing(query, upstream)
    await reader.read()
    upstream.release()
    await expect(readRest(reader, [])).rejects.toBeInstanceOf(FollowAbortedError)
    await deps.settle()
    expect((await deps.registry.get(ID))!.state).toBe('FAILED')
  })

  it('errors the follower when the query is stopped', async () => {
    const { deps, runner, start } = await startQuery()
    const upstream = heldBody('finish')
    deps.setQueryHandler(async (_query, _credentials, signal) => {
      signal?.addEventListener('abort', () => upstream.release())
      return upstream.body
    })
    await start()
    const followed = await runner.follow!(ID)
    if (!(followed instanceof ReadableStream)) throw new Error('not followed')
    const reader = followed.getReader()
    await reader.read()
    await runner.abort(ID, 'The query was stopped by ANALYST before it finished.')
    await expect(readRest(reader, [])).rejects.toBeInstanceOf(FollowAbortedError)
    await deps.settle()
    expect((await deps.registry.get(ID))!.state).toBe('FAILED')
  })

  it('leaves nothing in the live results once a query nobody followed has ended', async () => {
    const { deps, runner, live, start } = await startQuery()
    deps.setQueryHandler(async () => new Response(BODY).body!)
    await start()
    expect(live.size).toBe(1)
    await deps.settle()
    expect((await deps.registry.get(ID))!.state).toBe('SUCCESSFUL')
    expect(live.size).toBe(0)
    expect(await runner.follow!(ID)).toBeNull()
  })
})
