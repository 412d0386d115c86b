/** The in-memory registry against the shared contract: copies, updates, bounded size, eviction. */
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import { describeRegistryContract } from './contract.ts'
import { describeChangeContract } from './change-contract.ts'

// The contract every registry keeps (test/registry/contract.ts); Redis runs it too.
describeRegistryContract('memory', async (maxRecords) => {
  const evicted: string[] = []
  const registry = createMemoryRegistry({ maxRecords, onEvict: (r) => evicted.push(r.id) })
  return { registry, evicted }
})

describeChangeContract('memory', async () => {
  const registry = createMemoryRegistry({ maxRecords: 10 })
  return { writer: registry, watcher: registry }
})
