import { describe, expect, it } from 'vitest'
import { toResultKey } from '../../src/domain/query-id.ts'
import type { QueryRecord } from '../../src/domain/query.ts'
import { rebuildRegistry, SHADOW_LOST_MESSAGE } from '../../src/registry/rebuild.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { readRecordFile, writeRecordFile } from '../../src/registry/record-file.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { SHADOW_PENDING } from '../../src/shadow/shadow-runner.ts'

const ID = '3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41'

describe('rebuildRegistry and shadow runs', () => {
  it('ends a shadow run the restart lost FAILED, without a verdict, and keeps the query', async () => {
    const store = createMemoryStore({ maxBytes: 1 << 20 })
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const bytes = new TextEncoder().encode('1,a\n')
    await store.put(
      toResultKey(ID),
      new ReadableStream({
        start(controller) {
          controller.enqueue(bytes)
          controller.close()
        },
      }),
    )
    const record: QueryRecord = {
      id: ID,
      owner: 'ANALYST',
      project: 'learn_kylin',
      options: { separator: ',', includeHeader: false, fileName: 'result' },
      state: 'SUCCESSFUL',
      rows: 1,
      bytes: bytes.byteLength,
      createdAt: 1,
      updatedAt: 2,
      finishedAt: 2,
      shadow: SHADOW_PENDING,
    }
    await writeRecordFile({ store }, record)
    const summary = await rebuildRegistry({ store, registry, now: () => 5 })
    expect(summary.restored).toBe(1)
    const restored = await registry.get(ID)
    expect(restored).toMatchObject({ state: 'SUCCESSFUL', rows: 1 })
    expect(restored!.shadow).toEqual({
      ...SHADOW_PENDING,
      status: 'FAILED',
      message: SHADOW_LOST_MESSAGE,
      finishedAt: 5,
    })
    expect((await readRecordFile(store, ID))!.shadow!.status).toBe('FAILED')
  })
})
