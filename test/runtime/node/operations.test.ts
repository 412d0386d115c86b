/**
 * Operations on the Node gateway over real sockets: /readyz against the loopback fake Kylin,
 * a closed port and a vanished DATA_DIR; the start-up log line; `--version`.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../../src/runtime/node/gateway.ts'
import { startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')

let kylin: FakeKylin
let dataDir: string
const gateways: NodeGateway[] = []

async function startGateway(settings: Record<string, string>, logs: string[] = []) {
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', STORE: 'memory', ...settings })
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const gateway = await startNodeGateway(config, { logDestination })
  gateways.push(gateway)
  return gateway
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

beforeAll(async () => {
  kylin = await startFakeKylin()
  dataDir = await mkdtemp(join(tmpdir(), 'gateway-ops-'))
})

afterAll(async () => {
  for (const gateway of gateways) await gateway.close()
  await kylin?.close()
  await rm(dataDir, { recursive: true, force: true })
})

describe('GET /readyz on Node', () => {
  it('is 200 with a reachable Kylin and a writable fs store, and asks Kylin without credentials', async () => {
    const gateway = await startGateway({
      KYLIN_UPSTREAM_URL: kylin.url,
      STORE: 'fs',
      DATA_DIR: dataDir,
    })
    const response = await fetch(`${gateway.url}/readyz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'ready',
      checks: { upstream: { ok: true, status: 401 }, store: { ok: true } },
    })
    const probe = kylin.requests.filter((r) => r.path === '/kylin/api/user/authentication')
    expect(probe.at(-1)?.headers.authorization).toBeUndefined()
  })

  it('is 503 when the upstream refuses connections', async () => {
    const gateway = await startGateway({
      KYLIN_UPSTREAM_URL: `http://127.0.0.1:${await closedPort()}`,
    })
    const response = await fetch(`${gateway.url}/readyz`)
    expect(response.status).toBe(503)
    const body = (await response.json()) as {
      status: string
      checks: { upstream: { ok: boolean; error: string }; store: { ok: boolean } }
    }
    expect(body.status).toBe('not ready')
    expect(body.checks.upstream).toMatchObject({ ok: false, error: 'ECONNREFUSED' })
    expect(body.checks.store.ok).toBe(true)
  })

  it('is 503 when the fs store can no longer write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gateway-ops-gone-'))
    const gateway = await startGateway({
      KYLIN_UPSTREAM_URL: kylin.url,
      STORE: 'fs',
      DATA_DIR: dir,
    })
    await rm(dir, { recursive: true, force: true })
    const response = await fetch(`${gateway.url}/readyz`)
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({
      checks: { upstream: { ok: true }, store: { ok: false } },
    })
  })
})

describe('start-up', () => {
  it('logs where it listens, the upstream and the store, with no credential or token', async () => {
    const logs: string[] = []
    // An upstream URL with credentials never gets this far (config refuses it at start).
    const gateway = await startGateway(
      { KYLIN_UPSTREAM_URL: kylin.url, METRICS_TOKEN: 'token-never-logged', STORE: 'memory' },
      logs,
    )
    const version = (
      JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version
    const line = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => /listening on/.test(String(l.msg)))
    expect(line).toBeDefined()
    const shownUpstream = kylin.url
    expect(line!.msg).toBe(
      `kylin-async-gateway ${version} listening on ${gateway.url}, upstream ${shownUpstream}, store memory (536870912 bytes)`,
    )
    expect(line).toMatchObject({ version, upstream: shownUpstream, metricsToken: true })
    const all = logs.join('')
    expect(all).not.toContain('token-never-logged')
  })

  it('prints the package version with --version', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/runtime/node/main.ts', '--version'],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } },
    )
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string
    }
    expect(stdout).toBe(`kylin-async-gateway ${version}\n`)
  })
})
