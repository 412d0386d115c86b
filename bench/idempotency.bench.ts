/**
 * Idempotency-Key look-ups against a registry of 100,000 records (RECORDS=…): the first look-up
 * of a fresh gateway and the hundredth cost the same, because every registry keeps an index.
 * For contrast, what a look-up by scanning the registry costs. Memory, and Redis when
 * /usr/bin/redis-server exists. Run: npx tsx bench/idempotency.bench.ts
 */
import { existsSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { createRedisRegistry } from '../src/cluster/redis-registry.ts'
import type { QueryRecord } from '../src/domain/query.ts'
import { findEarlierSubmit } from '../src/queries/idempotency.ts'
import { createMemoryRegistry } from '../src/registry/memory.ts'
import type { Registry } from '../src/registry/types.ts'
import { REDIS_SERVER, startRedisServer } from '../test/support/redis-server.ts'

const RECORDS = Number(process.env.RECORDS ?? 100_000)
const LOOKUPS = 100

function toRecord(i: number): QueryRecord {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    owner: `USER${i % 50}`,
    project: 'learn_kylin',
    options: { separator: ',', includeHeader: false, fileName: 'result' },
    state: 'SUCCESSFUL',
    rows: 10,
    bytes: 100,
    createdAt: i,
    updatedAt: i,
    idempotency: { key: `export-${i}`, requestHash: `hash-${i}` },
  }
}

/** Microseconds of each of LOOKUPS look-ups of distinct keys, spread over the registry. */
async function timeLookups(registry: Registry): Promise<number[]> {
  const times: number[] = []
  for (let n = 0; n < LOOKUPS; n++) {
    const record = toRecord(Math.floor((n * RECORDS) / LOOKUPS) + (n % 7))
    const key = record.idempotency!
    const started = performance.now()
    const found = await findEarlierSubmit(registry, record.owner, key)
    times.push((performance.now() - started) * 1000)
    if (found?.id !== record.id) throw new Error(`look-up ${n} found ${found?.id}`)
  }
  return times
}

async function timeScan(registry: Registry): Promise<number> {
  const started = performance.now()
  const records = await registry.list()
  records.find((r) => r.owner === 'USER7' && r.idempotency?.key === 'export-99957')
  return (performance.now() - started) * 1000
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
const format = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(0)} µs`)

async function report(name: string, registry: Registry) {
  const times = await timeLookups(registry)
  const scan = await timeScan(registry)
  console.log(
    `${name.padEnd(8)} first ${format(times[0]!).padStart(9)}   hundredth ${format(times[LOOKUPS - 1]!).padStart(9)}   median ${format(median(times)).padStart(9)}   (a scan of all: ${format(scan)})`,
  )
}

console.log(`Idempotency-Key look-ups, ${RECORDS.toLocaleString('en')} records`)
const memory = createMemoryRegistry({ maxRecords: RECORDS + 1 })
for (let i = 0; i < RECORDS; i++) await memory.create(toRecord(i))
await report('memory', memory)

if (existsSync(REDIS_SERVER)) {
  const server = await startRedisServer()
  const redis = server.connect()
  try {
    const registry = createRedisRegistry({
      redis,
      prefix: 'bench:',
      maxRecords: RECORDS + 1,
      recordTtlMs: 3_600_000,
      leaseMs: 15_000,
    })
    for (let i = 0; i < RECORDS; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, RECORDS - i) }, (_, j) =>
          registry.create(toRecord(i + j)),
        ),
      )
    }
    await report('redis', registry)
  } finally {
    redis.disconnect()
    await server.stop()
  }
} else {
  console.log(`redis    skipped: no ${REDIS_SERVER}`)
}
