/**
 * Pending webhook deliveries in this process's memory: for STORE=memory, where nothing outlives
 * the process anyway, and for tests. Portable. Bounded by WEBHOOK_MAX_PENDING.
 */
import type { PendingDeliveries, PendingDelivery } from './types.ts'

export function createMemoryDeliveries(maxPending: number): PendingDeliveries {
  const deliveries = new Map<string, PendingDelivery>()
  return {
    async add(delivery) {
      if (deliveries.has(delivery.id)) return true
      if (deliveries.size >= maxPending) return false
      deliveries.set(delivery.id, { ...delivery })
      return true
    },
    async claimDue(now, limit, leaseUntil) {
      const claimed: PendingDelivery[] = []
      for (const delivery of deliveries.values()) {
        if (claimed.length >= limit) break
        if (delivery.dueAt > now) continue
        claimed.push({ ...delivery })
        delivery.dueAt = leaseUntil
      }
      return claimed
    },
    async reschedule(delivery) {
      if (deliveries.has(delivery.id)) deliveries.set(delivery.id, { ...delivery })
    },
    async remove(id) {
      deliveries.delete(id)
    },
    async nextDueAt() {
      let next: number | null = null
      for (const { dueAt } of deliveries.values()) if (next === null || dueAt < next) next = dueAt
      return next
    },
  }
}
