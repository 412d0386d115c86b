/** Pending webhook deliveries as files under DATA_DIR: kept across a reopen, bounded, claimed once. */
import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openWebhookFiles } from '../../../src/runtime/node/webhook-files.ts'
import type { PendingDelivery } from '../../../src/webhooks/types.ts'

function delivery(dueAt: number): PendingDelivery {
  const queryId = randomUUID()
  return {
    id: `msg_${queryId}`,
    queryId,
    url: 'https://hooks.example.com/k',
    body: '{"type":"async_query.finished"}',
    attempts: 0,
    firstDueAt: dueAt,
    dueAt,
  }
}

describe('openWebhookFiles', () => {
  let dataDir: string
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'webhook-files-'))
  })
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps deliveries across a reopen (a restart), with their attempts and due times', async () => {
    const first = await openWebhookFiles(dataDir, 10)
    const a = delivery(1_000)
    const b = delivery(5_000)
    expect(await first.add(a)).toBe(true)
    expect(await first.add(b)).toBe(true)
    const [claimed] = await first.claimDue(2_000, 10, 60_000)
    expect(claimed).toEqual(a)
    await first.reschedule({ ...a, attempts: 1, dueAt: 3_000 })

    const second = await openWebhookFiles(dataDir, 10)
    expect(await second.nextDueAt()).toBe(3_000)
    const due = await second.claimDue(10_000, 10, 70_000)
    expect(due.sort((x, y) => x.dueAt - y.dueAt)).toEqual([{ ...a, attempts: 1, dueAt: 3_000 }, b])
    await second.remove(a.id)
    await second.remove(b.id)
    expect(await (await openWebhookFiles(dataDir, 10)).nextDueAt()).toBeNull()
    expect(await readdir(join(dataDir, 'webhooks'))).toEqual([])
  })

  it('claims a delivery once until its claim ends; a reopen makes it due again', async () => {
    const files = await openWebhookFiles(dataDir, 10)
    const a = delivery(1_000)
    await files.add(a)
    expect(await files.claimDue(2_000, 10, 50_000)).toHaveLength(1)
    expect(await files.claimDue(3_000, 10, 50_000)).toEqual([])
    expect(await files.nextDueAt()).toBe(50_000)
    expect(await files.claimDue(50_000, 10, 90_000)).toHaveLength(1)
    expect(await (await openWebhookFiles(dataDir, 10)).claimDue(3_000, 10, 9_000)).toHaveLength(1)
  })

  it('is bounded, and keeps one file per webhook id', async () => {
    const files = await openWebhookFiles(dataDir, 2)
    const a = delivery(1)
    expect(await files.add(a)).toBe(true)
    expect(await files.add({ ...a, body: 'other' })).toBe(true)
    expect(await files.add(delivery(2))).toBe(true)
    expect(await files.add(delivery(3))).toBe(false)
    expect(await readdir(join(dataDir, 'webhooks'))).toHaveLength(2)
    const [first] = await files.claimDue(1, 1, 10)
    expect(first!.body).toBe(a.body)
  })

  it('ignores files that are not its own, and torn ones', async () => {
    await openWebhookFiles(dataDir, 10)
    await writeFile(join(dataDir, 'webhooks', 'notes.txt'), 'x')
    await writeFile(join(dataDir, 'webhooks', `msg_${randomUUID()}.json`), '{"id":')
    const files = await openWebhookFiles(dataDir, 10)
    expect(await files.nextDueAt()).toBeNull()
  })
})
