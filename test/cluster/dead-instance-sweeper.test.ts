/**
 * The dead-instance sweeper against a real redis-server: a query whose lease lapsed ends FAILED
 * once, and the sweeper hands that record (its callback URL kept) on for its webhook.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  INSTANCE_LOST_MESSAGE,
  SHADOW_INSTANCE_LOST_MESSAGE,
  startDeadInstanceSweeper,
} from '../../src/cluster/dead-instance-sweeper.ts'
import { readRecordFile } from '../../src/registry/record-file.ts'
import { createRedisRegistry } from '../../src/cluster/redis-registry.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import { createSilentLogger } from '../../src/logger.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(() => server?.stop())

describe('dead-instance sweeper', () => {
  it('hands each query it ends FAILED on once, with its callback URL', async () => {
    const options = { prefix: 's1:', maxRecords: 10, recordTtlMs: 60_000, leaseMs: 300 }
    // The instance that created the record dies: nothing renews its lease.
    const dead = createRedisRegistry({ redis: server.connect(), ...options })
    const id = randomUUID()
    await dead.create({
      id,
      owner: 'ANALYST',
      project: 'learn_kylin',
      options: { separator: ',', includeHeader: false, fileName: 'result' },
      state: 'RUNNING',
      rows: 0,
      bytes: 0,
      createdAt: Date.now(),
      updatedAt: Date.now(),
      callbackUrl: 'https://hooks.example.com/k?token=t',
    })
    const ended: QueryRecord[] = []
    const sweepers = [0, 1].map(() =>
      startDeadInstanceSweeper({
        registry: createRedisRegistry({ redis: server.connect(), ...options }),
        store: createMemoryStore({ maxBytes: 1024 }),
        logger: createSilentLogger(),
        now: Date.now,
        intervalMs: 3_600_000,
        onFailed: async (record) => void ended.push(record),
      }),
    )
    try {
      expect(await sweepers[0]!.sweep()).toBe(0)
      await new Promise((resolve) => setTimeout(resolve, 600))
      await Promise.all(sweepers.map((s) => s.sweep()))
      expect(ended).toHaveLength(1)
      expect(ended[0]).toMatchObject({
        id,
        state: 'FAILED',
        error: INSTANCE_LOST_MESSAGE,
        callbackUrl: 'https://hooks.example.com/k?token=t',
      })
    } finally {
      for (const sweeper of sweepers) sweeper.stop()
    }
  })

  it('says of the shadow run of a lost query that it was skipped, not taken over', async () => {
    const options = { prefix: 's2:', maxRecords: 10, recordTtlMs: 60_000, leaseMs: 300 }
    const dead = createRedisRegistry({ redis: server.connect(), ...options })
    const id = randomUUID()
    await dead.create({
      id,
      owner: 'ANALYST',
      project: 'learn_kylin',
      options: { separator: ',', includeHeader: false, fileName: 'result' },
      state: 'RUNNING',
      rows: 0,
      bytes: 0,
      createdAt: Date.now(),
      updatedAt: Date.now(),
      shadow: {
        status: 'RUNNING',
        match: null,
        rows: null,
        primaryRows: null,
        sha256: null,
        firstDifference: null,
      },
    })
    const registry = createRedisRegistry({ redis: server.connect(), ...options })
    const store = createMemoryStore({ maxBytes: 4096 })
    const sweeper = startDeadInstanceSweeper({
      registry,
      store,
      logger: createSilentLogger(),
      now: () => 42,
      intervalMs: 3_600_000,
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 600))
      expect(await sweeper.sweep()).toBe(1)
      const swept = await registry.get(id)
      expect(swept).toMatchObject({
        state: 'FAILED',
        shadow: {
          status: 'SKIPPED',
          match: null,
          message: SHADOW_INSTANCE_LOST_MESSAGE,
          finishedAt: 42,
        },
      })
      expect((await readRecordFile(store, id))?.shadow?.status).toBe('SKIPPED')
    } finally {
      sweeper.stop()
    }
  })
})
