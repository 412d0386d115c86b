/**
 * Status polls against a bare Hono hello-world, alone (`npm run bench:polls`): the compiled
 * gateway as `npm start` runs it, one SUCCESSFUL query polled by its owner. Bench only.
 * POLL_BASE_ROOT=<another checkout, built> adds that tree's gateway to the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BASIC, startFakeKylin } from '../test/support/fake-kylin.ts'
import { comparePollThroughput, formatPollTable, readPollLoad } from './poll-throughput.ts'
import type { Child } from './processes.ts'
import { preparePolledQuery, startHelloWorld, startPollGateway } from './poll-servers.ts'
import { writeBenchResults } from './results-file.ts'

const ROOT = join(import.meta.dirname, '..')

const load = readPollLoad(BASIC.ANALYST)

const kylin = await startFakeKylin()
const dataDirs: string[] = []
const children: Child[] = []
try {
  const trees = [{ name: 'gateway', root: ROOT }]
  if (process.env.POLL_BASE_ROOT) {
    trees.unshift({ name: 'gateway (base)', root: resolve(process.env.POLL_BASE_ROOT) })
  }
  const hello = await startHelloWorld(ROOT)
  children.push(hello)
  const targets = []
  for (const tree of trees) {
    const dataDir = mkdtempSync(join(tmpdir(), 'gateway-polls-'))
    dataDirs.push(dataDir)
    const gateway = await startPollGateway(tree.root, kylin.url, dataDir)
    children.push(gateway)
    const url = await preparePolledQuery(gateway.ready, BASIC.ANALYST)
    targets.push({ name: tree.name, url, pid: gateway.pid })
  }
  const comparison = await comparePollThroughput(
    // The same path as the polls, so both servers read requests of the same size.
    {
      name: 'hello-world',
      url: `${hello.ready}${new URL(targets[0]!.url).pathname}`,
      pid: hello.pid,
    },
    targets,
    load,
  )
  console.log(`\n${formatPollTable(comparison)}`)
  console.log(`\nwritten to ${writeBenchResults('polls', comparison)}`)
} finally {
  for (const child of children) await child.stop()
  await kylin.close()
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
}
process.exit(0)
