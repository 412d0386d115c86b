/**
 * Pending webhook deliveries in a query's Durable Object storage (`webhook:<id>` keys), attempted
 * from the object's alarm. Workers only. The object runs one thing at a time, so a claim is the
 * delivery's due time moved past the attempt: if the object dies mid-attempt, it comes due again.
 */
import type { PendingDeliveries, PendingDelivery } from '../../webhooks/types.ts'

const PREFIX = 'webhook:'

/** The part of Durable Object storage used here. */
export interface DeliveryStorage {
  get<T>(key: string): Promise<T | undefined>
  put<T>(key: string, value: T): Promise<void>
  delete(key: string): Promise<boolean>
  list<T>(options: { prefix: string }): Promise<Map<string, T>>
}

export function createStorageDeliveries(
  storage: DeliveryStorage,
  maxPending: number,
): PendingDeliveries {
  const all = () => storage.list<PendingDelivery>({ prefix: PREFIX })
  return {
    async add(delivery) {
      if (await storage.get(PREFIX + delivery.id)) return true
      if ((await all()).size >= maxPending) return false
      await storage.put(PREFIX + delivery.id, delivery)
      return true
    },
    async claimDue(now, limit, leaseUntil) {
      const claimed: PendingDelivery[] = []
      for (const delivery of (await all()).values()) {
        if (claimed.length >= limit) break
        if (delivery.dueAt > now) continue
        await storage.put(PREFIX + delivery.id, { ...delivery, dueAt: leaseUntil })
        claimed.push(delivery)
      }
      return claimed
    },
    async reschedule(delivery) {
      if (await storage.get(PREFIX + delivery.id)) await storage.put(PREFIX + delivery.id, delivery)
    },
    async remove(id) {
      await storage.delete(PREFIX + id)
    },
    async nextDueAt() {
      let next: number | null = null
      for (const { dueAt } of (await all()).values())
        if (next === null || dueAt < next) next = dueAt
      return next
    },
  }
}

/** Whether any delivery is still pending in this storage. */
export async function hasPendingDeliveries(storage: DeliveryStorage): Promise<boolean> {
  return (await storage.list({ prefix: PREFIX })).size > 0
}
