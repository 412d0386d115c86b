/**
 * The Registry contract on Redis, shared by every gateway instance. Node only (ioredis).
 * A record is a hash of JSON-encoded fields; each change is one Lua script (redis-registry-lua.ts),
 * which also keeps its index entries (Idempotency-Key, the query lists, the reuse pointer).
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { createLuaScript } from './redis-client.ts'
import type { QueryRecord, QueryState, ShadowVerdict } from '../domain/query.ts'
import type { QuerySummary, Registry } from '../registry/types.ts'
import { collectListPage, fromListKey, toSummary, type ListEntry } from '../registry/list-page.ts'
import {
  CREATE_LUA,
  DELETE_LUA,
  FAIL_EXPIRED_LUA,
  GET_LUA,
  RENEW_LUA,
  UPDATE_LUA,
  UPDATE_SHADOW_LUA,
} from './redis-registry-lua.ts'
import { toRegistryFullError } from '../registry/registry-full.ts'
import { isReusableBy } from '../registry/reusable.ts'
import { createChangeNotifier, type ChangeNotifier } from '../registry/change-notifier.ts'

const createScript = createLuaScript(CREATE_LUA)
const getScript = createLuaScript(GET_LUA)
const updateScript = createLuaScript(UPDATE_LUA)
const updateShadowScript = createLuaScript(UPDATE_SHADOW_LUA)
const deleteScript = createLuaScript(DELETE_LUA)
const renewScript = createLuaScript(RENEW_LUA)
const failExpiredScript = createLuaScript(FAIL_EXPIRED_LUA)

/** Records read per round trip by `list`. */
const LIST_BATCH = 500

export interface RedisRegistryOptions {
  redis: Redis
  /** Put before every key, e.g. `kag:`. */
  prefix: string
  /** Records kept at most; the least recently used finished ones go first, never a running one. */
  maxRecords: number
  /**
   * How long a finished record stays after its last change. A safety net: the retention sweep
   * deletes records with their results before this, so it should be longer than RESULT_RETAIN.
   */
  recordTtlMs: number
  /** How long a RUNNING record's lease lasts unless its instance renews it. */
  leaseMs: number
  /** Called with the id of a record evicted by the bound, so its blobs can be removed too. */
  onEvict?: (id: string) => void
  /**
   * A connection for subscriptions only (it may carry other channels too): with it the registry
   * offers `waitForChange`, woken by the message every change publishes on `<prefix>changes`.
   */
  subscriber?: Redis
}

/** A query whose lease could not be renewed, and its state now (`null`: deleted). */
export interface LostLease {
  id: string
  state: QueryState | null
}

export interface RedisRegistry extends Registry {
  updateShadow(id: string, shadow: ShadowVerdict): Promise<QueryRecord | null>
  /**
   * Renews the lease of every RUNNING record this registry object created (this instance's
   * queries, queued or running); answers, and forgets, those that hold none any more.
   */
  renewLeases(): Promise<LostLease[]>
  /** Whether this registry object holds the lease of `id`: the query is this instance's. */
  holds(id: string): boolean
  /**
   * Ends FAILED with `message` every RUNNING query whose lease expired (its instance stopped
   * renewing it); atomic per record, so a query that finished meanwhile is left alone.
   */
  failExpired(message: string, now: number): Promise<QueryRecord[]>
  /** Stops listening for changes (before the subscriber connection closes). */
  close(): Promise<void>
}

export function createRedisRegistry(options: RedisRegistryOptions): RedisRegistry {
  const { redis, prefix } = options
  // Held from the moment the record exists, not from when the query starts: a submit may
  // still be writing the record file when a short lease would otherwise lapse.
  const held = new Set<string>()
  const keys = {
    record: (id: string) => `${prefix}q:${id}`,
    index: `${prefix}index`,
    seq: `${prefix}seq`,
    running: `${prefix}running`,
    /** The query list: everyone's, and one per owner (see the Lua's `add_listed`). */
    listed: `${prefix}listed`,
    ownerList: (owner: string) => `${prefix}owner:${sha1(owner)}`,
    reuse: (reuseKey: string) => `${prefix}reuse:${reuseKey}`,
  }

  /** Up to `count` list members before `before`, newest first, each with its record's summary. */
  async function readListBatch(
    list: string,
    before: string | undefined,
    count: number,
  ): Promise<ListEntry[]> {
    const members = await redis.zrevrangebylex(
      list,
      before === undefined ? '+' : `(${before}`,
      '-',
      'LIMIT',
      0,
      count,
    )
    if (members.length === 0) return []
    const pipeline = redis.pipeline()
    for (const member of members) {
      pipeline.hmget(keys.record(fromListKey(member).id), ...SUMMARY_FIELDS)
    }
    const replies = (await pipeline.exec()) ?? []
    const vanished: string[] = []
    const entries = members.map((member, i): ListEntry => {
      const [error, values] = replies[i] ?? [new Error('no reply')]
      if (error) throw error
      const summary = toSummaryFromFields(values as (string | null)[])
      if (!summary) vanished.push(member)
      return { key: member, summary }
    })
    // Finished records leave by TTL; their list entries are tidied as they are met.
    if (vanished.length > 0) await redis.zrem(list, ...vanished)
    return entries
  }

  const changes = options.subscriber
    ? subscribeToChanges(options.subscriber, `${prefix}changes`)
    : undefined

  async function readRecord(id: string): Promise<QueryRecord | null> {
    const fields = (await getScript.run(
      redis,
      [keys.record(id), keys.index, keys.seq],
      [id],
    )) as string[]
    return fields.length > 0 ? fromFields(fields) : null
  }

  return {
    async create(record) {
      const [outcome, evicted] = (await createScript.run(
        redis,
        [keys.record(record.id), keys.index, keys.seq, keys.running],
        [
          record.id,
          options.maxRecords,
          options.leaseMs,
          options.recordTtlMs,
          prefix,
          record.state,
          ...toFields(record),
        ],
      )) as [string, string[]]
      for (const id of evicted) options.onEvict?.(id)
      if (outcome === 'full') {
        throw toRegistryFullError(options.maxRecords)
      }
      if (record.state === 'RUNNING') held.add(record.id)
      else held.delete(record.id)
    },

    get: readRecord,

    ...(changes && {
      waitForChange: (id: string, afterVersion: number, timeoutMs: number, signal?: AbortSignal) =>
        changes.notifier.waitForChange(id, afterVersion, timeoutMs, readRecord, signal),
    }),

    close: async () => changes?.close(),

    async update(id, patch) {
      // The version is the registry's own count of changes (the script adds one).
      const { id: _ignored, version: _counted, ...rest } = patch as Partial<QueryRecord>
      const fields = (await updateScript.run(
        redis,
        [keys.record(id), keys.index, keys.seq, keys.running],
        [id, options.recordTtlMs, ...toFields(rest)],
      )) as string[] | null
      if (!fields) return null
      const record = fromFields(fields)
      if (record.state !== 'RUNNING') held.delete(id)
      return record
    },

    async updateShadow(id, shadow) {
      const fields = (await updateShadowScript.run(
        redis,
        [keys.record(id)],
        [id, JSON.stringify(shadow)],
      )) as string[] | null
      return fields ? fromFields(fields) : null
    },

    async delete(id) {
      held.delete(id)
      const removed = await deleteScript.run(
        redis,
        [keys.record(id), keys.index, keys.running],
        [id],
      )
      return removed === 1
    },

    async list() {
      const ids = await redis.zrange(keys.index, '0', '-1')
      const records: QueryRecord[] = []
      const vanished: string[] = []
      for (let start = 0; start < ids.length; start += LIST_BATCH) {
        const batch = ids.slice(start, start + LIST_BATCH)
        const pipeline = redis.pipeline()
        for (const id of batch) pipeline.hgetall(keys.record(id))
        const replies = (await pipeline.exec()) ?? []
        replies.forEach(([error, value], i) => {
          if (error) throw error
          const fields = value as Record<string, string>
          const flat = Object.entries(fields).flat()
          if (flat.length > 0) records.push(fromFields(flat))
          else vanished.push(batch[i]!)
        })
      }
      // Finished records leave by TTL; their index entries are tidied here.
      if (vanished.length > 0) await redis.zrem(keys.index, ...vanished)
      return records
    },

    async findByIdempotencyKey(owner, key) {
      // The entry is written, expired and removed with its record inside the scripts.
      const entry = `${prefix}idem:${sha1(`${owner}\n${key}`)}`
      const id = await redis.get(entry)
      if (id === null) return null
      const record = await readRecord(id)
      return record && record.owner === owner && record.idempotency?.key === key ? record : null
    },

    listPage(query) {
      const list = query.owner === undefined ? keys.listed : keys.ownerList(query.owner)
      return collectListPage(query, (before, count) => readListBatch(list, before, count))
    },

    async findReusable(owner, reuseKey) {
      // The entry is written when a record ends SUCCESSFUL and goes with it, inside the scripts.
      const id = await redis.get(keys.reuse(reuseKey))
      if (id === null) return null
      const record = await readRecord(id)
      return isReusableBy(record, owner, reuseKey) ? record : null
    },

    holds: (id) => held.has(id),

    async renewLeases() {
      if (held.size === 0) return []
      const lost = (await renewScript.run(
        redis,
        [keys.running],
        [options.leaseMs, prefix, ...held],
      )) as string[]
      const answer: LostLease[] = []
      for (let i = 0; i < lost.length; i += 2) {
        const state = lost[i + 1] ? (JSON.parse(lost[i + 1]!) as QueryState) : null
        held.delete(lost[i]!)
        answer.push({ id: lost[i]!, state })
      }
      return answer
    },

    async failExpired(message, now) {
      const failed = (await failExpiredScript.run(
        redis,
        [keys.running],
        [
          prefix,
          options.recordTtlMs,
          ...toFields({ state: 'FAILED', error: message, updatedAt: now, finishedAt: now }),
        ],
      )) as string[][]
      return failed.map(fromFields)
    },
  }
}

/**
 * One subscription per instance to the changes every script announces, fanned out to the waiters
 * here. ioredis subscribes again after a reconnect, but what was published meanwhile is lost, so
 * once that subscription is confirmed every waiter reads its record again: a missed message can
 * delay an answer, never hold it past its time limit.
 */
function subscribeToChanges(subscriber: Redis, channel: string) {
  let subscribed: Promise<void> = Promise.resolve()
  const notifier: ChangeNotifier = createChangeNotifier({ ready: () => subscribed })
  const onMessage = (from: string, id: string) => {
    if (from === channel) notifier.notify(id)
  }
  const subscribe = () => {
    subscribed = subscriber.subscribe(channel).then(
      () => {},
      () => {},
    )
    return subscribed
  }
  // 'ready' comes before ioredis's own resubscribe is sent; this one is answered after it.
  const onReady = () => void subscribe().then(() => notifier.notifyAll())
  subscriber.on('message', onMessage)
  subscriber.on('ready', onReady)
  subscribe()
  return {
    notifier,
    async close() {
      subscriber.off('message', onMessage)
      subscriber.off('ready', onReady)
      await subscriber.unsubscribe(channel).catch(() => {})
    },
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

/** The fields of a record the query list shows, in the order `toSummaryFromFields` reads. */
const SUMMARY_FIELDS = [
  'id',
  'owner',
  'project',
  'state',
  'rows',
  'bytes',
  'createdAt',
  'finishedAt',
] as const

function toSummaryFromFields(values: (string | null)[]): QuerySummary | null {
  const [id, owner, project, state, rows, bytes, createdAt, finishedAt] = values.map((value) =>
    value === null ? undefined : (JSON.parse(value) as unknown),
  )
  if (id === undefined || owner === undefined) return null
  return toSummary({
    id,
    owner,
    project,
    state,
    rows,
    bytes,
    createdAt,
    finishedAt,
  } as QuerySummary)
}

/** field, JSON value, field, JSON value, … for HSET; undefined fields are left out. */
function toFields(values: Partial<QueryRecord>): string[] {
  const fields: string[] = []
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) fields.push(name, JSON.stringify(value))
  }
  return fields
}

function fromFields(flat: string[]): QueryRecord {
  const record: Record<string, unknown> = {}
  for (let i = 0; i < flat.length; i += 2) record[flat[i]!] = JSON.parse(flat[i + 1]!)
  return record as unknown as QueryRecord
}
