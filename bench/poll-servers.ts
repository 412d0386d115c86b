/**
 * The servers the status-poll bench loads: the hello-world baseline and a compiled gateway (of
 * this tree or another checkout), plus the one SUCCESSFUL query it is polled for. Bench only.
 */
import { join } from 'node:path'
import { spawnChild, type Child } from './processes.ts'
import { readStartNodeFlags } from './start-flags.ts'

const START_TIMEOUT_MS = 30_000
/** Extra `node` flags for every server of the bench, e.g. `--cpu-prof --cpu-prof-dir=…`. */
const NODE_ARGS = process.env.POLL_NODE_ARGS ? process.env.POLL_NODE_ARGS.split(' ') : []

export function startHelloWorld(root: string): Promise<Child> {
  return spawnChild(process.execPath, [...NODE_ARGS, join(root, 'bench', 'hello-server.mjs')], {
    cwd: root,
    timeoutMs: START_TIMEOUT_MS,
    match: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1] ?? null,
  })
}

/**
 * `npm start` of `root`'s build with its defaults (logger included); only where it listens,
 * where it keeps results and which upstream it asks are set.
 */
export function startPollGateway(root: string, upstream: string, dataDir: string): Promise<Child> {
  return spawnChild(
    process.execPath,
    [
      ...readStartNodeFlags(root),
      ...NODE_ARGS,
      join(root, 'dist', 'runtime', 'node', 'main.js'),
      ...['--upstream', upstream, '--port', '0', '--host', '127.0.0.1'],
      ...['--store', 'fs', '--data-dir', dataDir],
    ],
    {
      cwd: root,
      timeoutMs: START_TIMEOUT_MS,
      match: (line) => /listening on (http:\/\/[^\s,"]+)/.exec(line)?.[1] ?? null,
    },
  )
}

/** Submits a query as `auth`, waits until it is SUCCESSFUL, and returns its status URL. */
export async function preparePolledQuery(gateway: string, auth: string): Promise<string> {
  const submitted = await fetch(`${gateway}/kylin/api/async_query`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select * from kylin_sales', project: 'learn_kylin' }),
  })
  if (submitted.status !== 200) throw new Error(`submit answered ${submitted.status}`)
  const id = ((await submitted.json()) as { data: { queryID: string } }).data.queryID
  const url = `${gateway}/kylin/api/async_query/${id}/status`
  for (let attempt = 0; attempt < 500; attempt++) {
    const res = await fetch(url, { headers: { Authorization: auth } })
    const status = ((await res.json()) as { data: { status: string } }).data.status
    if (res.status === 200 && status === 'SUCCESSFUL') return url
    if (status !== 'RUNNING') throw new Error(`the polled query ended ${status}`)
    await new Promise((done) => setTimeout(done, 20))
  }
  throw new Error('the polled query did not finish within 10 s')
}
