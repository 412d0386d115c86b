/**
 * Pending webhook deliveries as one JSON file each under `DATA_DIR/webhooks/`, so they survive a
 * restart of a single Node instance. Node only (node:fs). The fs store lists files, never this
 * folder, so nothing here can be taken for a query's record or result.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PendingDeliveries, PendingDelivery } from '../../webhooks/types.ts'

/** `msg_<uuid>.json`: the only names written or read here. */
const FILE_NAME = /^msg_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json$/

export async function openWebhookFiles(
  dataDir: string,
  maxPending: number,
): Promise<PendingDeliveries> {
  const dir = join(dataDir, 'webhooks')
  await mkdir(dir, { recursive: true })
  const deliveries = new Map<string, PendingDelivery>()
  for (const name of await readdir(dir)) {
    if (!FILE_NAME.test(name)) continue
    try {
      const delivery = JSON.parse(await readFile(join(dir, name), 'utf8')) as PendingDelivery
      if (`${delivery.id}.json` === name) deliveries.set(delivery.id, delivery)
    } catch {
      // A file cut short by a crash mid-write: never renamed into place, so not here; or foreign.
    }
  }
  // Claims live in memory: after a restart, what was being attempted is due again.
  const claimedUntil = new Map<string, number>()
  const pathOf = (id: string) => {
    const name = `${id}.json`
    if (!FILE_NAME.test(name)) throw new Error(`not a webhook id: ${id.slice(0, 60)}`)
    return join(dir, name)
  }
  async function write(delivery: PendingDelivery) {
    const path = pathOf(delivery.id)
    const temporary = `${path}.${process.pid}.tmp`
    await writeFile(temporary, JSON.stringify(delivery))
    await rename(temporary, path)
  }

  return {
    async add(delivery) {
      if (deliveries.has(delivery.id)) return true
      if (deliveries.size >= maxPending) return false
      await write(delivery)
      deliveries.set(delivery.id, { ...delivery })
      return true
    },
    async claimDue(now, limit, leaseUntil) {
      const claimed: PendingDelivery[] = []
      for (const delivery of deliveries.values()) {
        if (claimed.length >= limit) break
        if (delivery.dueAt > now || (claimedUntil.get(delivery.id) ?? 0) > now) continue
        claimedUntil.set(delivery.id, leaseUntil)
        claimed.push({ ...delivery })
      }
      return claimed
    },
    async reschedule(delivery) {
      if (!deliveries.has(delivery.id)) return
      await write(delivery)
      deliveries.set(delivery.id, { ...delivery })
      claimedUntil.delete(delivery.id)
    },
    async remove(id) {
      deliveries.delete(id)
      claimedUntil.delete(id)
      await unlink(pathOf(id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
    },
    async nextDueAt() {
      let next: number | null = null
      for (const { id, dueAt } of deliveries.values()) {
        const at = Math.max(dueAt, claimedUntil.get(id) ?? 0)
        if (next === null || at < next) next = at
      }
      return next
    },
  }
}
