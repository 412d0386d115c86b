/**
 * Following inside workerd, at the stream the Worker gets from the query's Durable Object over
 * RPC: it carries the live bytes across isolates, closes once the query is SUCCESSFUL, and errors
 * when the query fails or is deleted. (Over HTTP workerd ends an errored body cleanly,
 * cloudflare/workerd#6818, so the conformance cases can only see a cut-off body there.)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BASIC, startFakeKylin, toGeneratedRow, type FakeKylin } from '../../support/fake-kylin.ts'
import { toSqlResponse } from '../../support/test-deps.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

const COLUMNS = [
  { name: 'ID', type: 'VARCHAR' },
  { name: 'NAME', type: 'VARCHAR' },
  { name: 'PRICE', type: 'VARCHAR' },
]
const ROWS = Array.from({ length: 8_000 }, (_, i) => toGeneratedRow(i + 1))
const BODY = toSqlResponse(COLUMNS, ROWS)
const CUT = BODY.indexOf(JSON.stringify(ROWS[5_000]))

let kylin: FakeKylin
let mf: Miniflare
let url: string
let outdir: string

beforeAll(async () => {
  kylin = await startFakeKylin()
  outdir = await mkdtemp(join(tmpdir(), 'follow-worker-'))
  const scriptPath = await buildWorker(outdir, 'test/runtime/workers/follow/wrangler.toml')
  mf = new Miniflare(
    toWorkerOptions(scriptPath, { KYLIN_UPSTREAM_URL: kylin.url, LOG_LEVEL: 'warn' }),
  )
  url = (await mf.ready).toString().replace(/\/$/, '')
}, 120_000)

afterAll(async () => {
  await mf?.dispose()
  await kylin?.close()
  if (outdir) await rm(outdir, { recursive: true, force: true })
})

/** The upstream answer's first piece at once; the rest, a reset or nothing once released. */
function holdUpstream(ending: 'finish' | 'reset' | 'hang') {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  kylin.setQueryHandler(async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.write(BODY.slice(0, CUT))
    await released
    if (ending === 'finish') res.end(BODY.slice(CUT))
    else if (ending === 'reset') res.destroy()
  })
  return {
    release,
    restore() {
      release()
      kylin.setQueryHandler(null)
    },
  }
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${url}/kylin/api/async_query${path}`, {
    ...init,
    headers: { Authorization: BASIC.ANALYST, 'Accept-Encoding': 'identity', ...init.headers },
  })

async function submit(): Promise<string> {
  const res = await api('', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'select * from rows_8000', project: 'learn_kylin' }),
  })
  return ((await res.json()) as { data: { queryID: string } }).data.queryID
}

/** Follows `id` through the RPC; resolves once it follows, with the report of how it ended. */
async function followOverRpc(id: string) {
  // Not gzipped: workerd's compressor would hold the first line back.
  const res = await fetch(`${url}/test/follow/${id}`, {
    headers: { 'Accept-Encoding': 'identity' },
  })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  while (!text.includes('\n')) {
    const next = await reader.read()
    if (next.done) break
    text += next.value
  }
  expect(text).toBe('following\n')
  const ended = (async () => {
    let rest = ''
    for (;;) {
      const next = await reader.read()
      if (next.done) return rest.trim()
      rest += next.value
    }
  })()
  // In an object: an async function returning the promise itself would wait for it.
  return { ended }
}

async function waitForStatus(id: string, status: string) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const json = (await (await api(`/${id}/status`)).json()) as { data: { status: string } }
    if (json.data.status === status) return
    if (Date.now() > deadline) throw new Error(`status ${json.data.status}, not ${status}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('following through the query Durable Object, in workerd', () => {
  it('closes the RPC stream with every byte once the query is SUCCESSFUL', async () => {
    const upstream = holdUpstream('finish')
    try {
      const id = await submit()
      const { ended } = await followOverRpc(id)
      upstream.release()
      await waitForStatus(id, 'SUCCESSFUL')
      const size = (await (await api(`/${id}/result`)).bytes()).byteLength
      expect(size).toBeGreaterThan(0)
      expect(await ended).toBe(`closed ${size}`)
    } finally {
      upstream.restore()
    }
  })

  it('errors the RPC stream when the upstream fails mid-body', async () => {
    const upstream = holdUpstream('reset')
    try {
      const id = await submit()
      const { ended } = await followOverRpc(id)
      upstream.release()
      expect(await ended).toMatch(/^errored \d+$/)
      await waitForStatus(id, 'FAILED')
    } finally {
      upstream.restore()
    }
  })

  it('errors the RPC stream when the query is deleted', async () => {
    const upstream = holdUpstream('hang')
    try {
      const id = await submit()
      const { ended } = await followOverRpc(id)
      expect((await api(`/${id}`, { method: 'DELETE' })).status).toBe(200)
      expect(await ended).toMatch(/^errored \d+$/)
    } finally {
      upstream.restore()
    }
  })
})
