/**
 * Downloads on Node with the fs store, written from the file with Node streams
 * (runtime/node/stored-file-sender.ts): the same wire answer as the web-stream path, and a
 * client that goes away or a file that shrank never leaves a file open or a cut-off body that
 * looks whole. Real sockets, a fake Kylin, two Node gateways.
 */
import { existsSync, readdirSync, readlinkSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises'
import { request, type IncomingMessage } from 'node:http'
import { Writable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { parseConfig } from '../../../src/config/config.ts'
import { toResultKey } from '../../../src/domain/query-id.ts'
import { startNodeGateway, type NodeGateway } from '../../../src/runtime/node/gateway.ts'
import { createFsStore, type FsStore } from '../../../src/store/fs.ts'
import { BASIC, startFakeKylin, type FakeKylin } from '../../support/fake-kylin.ts'

const LINK_SECRET = 'stored-file-link-secret-0123456789abcdef'
/** Some 20 MB of CSV: more than the file read-ahead and the loopback socket buffers hold. */
const LARGE_SQL = 'select * from rows_800000'

interface Answer {
  status: number
  /** Header names and values in the order they came. */
  rawHeaders: string[]
  body: Buffer
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The response, its body not read yet (paused): the test decides what the client does. */
function open(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      res.pause()
      resolve(res)
    })
    req.on('error', reject)
    req.end()
  })
}

/** How a body read to its end came out: whole, or cut off with the connection's error. */
function readToEnd(res: IncomingMessage): Promise<{ bytes: number; outcome: 'end' | 'error' }> {
  return new Promise((resolve) => {
    let bytes = 0
    let settled = false
    const settle = (outcome: 'end' | 'error') => {
      if (settled) return
      settled = true
      resolve({ bytes, outcome })
    }
    res.on('data', (chunk: Buffer) => void (bytes += chunk.length))
    res.on('end', () => settle('end'))
    res.on('error', () => settle('error'))
    res.on('aborted', () => settle('error'))
    res.on('close', () => settle(res.complete ? 'end' : 'error'))
    res.resume()
  })
}

/** This process's open descriptors on `path` (the gateways run in it). Linux only. */
function openDescriptorsOf(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path
    } catch {
      return false
    }
  }).length
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const auth = { Authorization: BASIC.ANALYST, 'Accept-Encoding': 'identity' }

async function storeResult(gateway: NodeGateway, sql: string): Promise<string> {
  const submitted = await fetch(`${gateway.url}/kylin/api/async_query`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project: 'learn_kylin' }),
  })
  const { data } = (await submitted.json()) as { data: { queryID: string } }
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const status = await fetch(`${gateway.url}/kylin/api/async_query/${data.queryID}/status`, {
      headers: auth,
    })
    const { data: answer } = (await status.json()) as { data: { status: string } }
    if (answer.status === 'SUCCESSFUL') return data.queryID
    if (answer.status !== 'RUNNING') throw new Error(`query ended ${answer.status}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('query still RUNNING after 30 s')
}

/** The headers as a client sees them, with what differs between two stores of one result masked. */
function comparable(answer: Answer, id: string): string[] {
  const masked: string[] = []
  for (let i = 0; i < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i]!
    const value = answer.rawHeaders[i + 1]!
    const timed = /^(date|last-modified)$/i.test(name)
    masked.push(`${name}: ${timed ? '…' : value.replaceAll(id, 'ID')}`)
  }
  return masked
}

describe('downloads written from the stored file (Node, fs store)', () => {
  let kylin: FakeKylin
  let dirs: string[]
  /** STORE=fs: its downloads take the Node path. */
  let direct: NodeGateway
  /** A store passed in by the caller: no file sender, so its downloads stream as on Workers. */
  let streamed: NodeGateway
  let directId: string
  let streamedId: string
  let openSpy: ReturnType<typeof vi.spyOn>

  beforeAll(async () => {
    kylin = await startFakeKylin()
    dirs = [
      await mkdtemp(join(tmpdir(), 'stored-file-direct-')),
      await mkdtemp(join(tmpdir(), 'stored-file-streamed-')),
    ]
    const settings = (dataDir: string) =>
      parseConfig({
        KYLIN_UPSTREAM_URL: kylin.url,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        LINK_SECRET,
      })
    direct = await startNodeGateway(settings(dirs[0]!))
    streamed = await startNodeGateway(settings(dirs[1]!), {
      store: createFsStore({ dir: dirs[1]! }),
    })
    openSpy = vi.spyOn(direct.store as FsStore, 'open')
    ;[directId, streamedId] = await Promise.all([
      storeResult(direct, 'select * from rows_20000'),
      storeResult(streamed, 'select * from rows_20000'),
    ])
  })

  afterAll(async () => {
    await direct?.close()
    await streamed?.close()
    await kylin?.close()
    for (const dir of dirs ?? []) await rm(dir, { recursive: true, force: true })
  })

  const cases: [string, string, Record<string, string>, string?][] = [
    ['a whole download', '/result_download', {}],
    ['the legacy /result', '/result', {}],
    ['a range', '/result_download', { Range: 'bytes=100-199' }],
    ['a suffix range', '/result_download', { Range: 'bytes=-10' }],
    ['an open-ended range', '/result_download', { Range: 'bytes=1000-' }],
    ['a HEAD', '/result_download', {}, 'HEAD'],
    ['a HEAD with a range', '/result_download', { Range: 'bytes=0-9' }, 'HEAD'],
  ]
  it.each(cases)('answers %s as the web-stream path does', async (_, path, extra, method) => {
    const headers = { ...auth, 'X-Request-Id': 'same-request', ...extra }
    const opened = openSpy.mock.calls.length
    const [mine, theirs] = await Promise.all([
      get(`${direct.url}/kylin/api/async_query/${directId}${path}`, headers, method),
      get(`${streamed.url}/kylin/api/async_query/${streamedId}${path}`, headers, method),
    ])
    expect(mine.status).toBe(theirs.status)
    expect(comparable(mine, directId)).toEqual(comparable(theirs, streamedId))
    expect(mine.body.equals(theirs.body)).toBe(true)
    // The Node path took the download (HEAD opens no file on either path).
    expect(openSpy.mock.calls.length - opened).toBe(method === 'HEAD' ? 0 : 1)
    if (method === 'HEAD') expect(mine.body.byteLength).toBe(0)
  })

  it('counts the bytes it sends in the download metric', async () => {
    const downloaded = async () => {
      const page = await (await fetch(`${direct.url}/metrics`)).text()
      const line = page.split('\n').find((l) => l.startsWith('kylin_gateway_download_bytes_total '))
      return Number(line?.split(' ')[1])
    }
    const before = await downloaded()
    const whole = await get(`${direct.url}/kylin/api/async_query/${directId}/result_download`, auth)
    const range = await get(`${direct.url}/kylin/api/async_query/${directId}/result_download`, {
      ...auth,
      Range: 'bytes=10-19',
    })
    expect(whole.body.byteLength).toBeGreaterThan(0)
    expect(range.status).toBe(206)
    expect((await downloaded()) - before).toBe(whole.body.byteLength + 10)
  })

  it('leaves the status it wrote for the access log', async () => {
    const lines: string[] = []
    const logged = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean))
        done()
      },
    })
    const dir = await mkdtemp(join(tmpdir(), 'stored-file-logged-'))
    dirs.push(dir)
    const gateway = await startNodeGateway(
      parseConfig({
        KYLIN_UPSTREAM_URL: kylin.url,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dir,
        LOG_LEVEL: 'debug',
      }),
      { logDestination: logged },
    )
    try {
      const id = await storeResult(gateway, 'select * from rows_100')
      const range = await get(`${gateway.url}/kylin/api/async_query/${id}/result_download`, {
        ...auth,
        Range: 'bytes=0-9',
        'X-Request-Id': 'ranged-download',
      })
      expect(range.status).toBe(206)
      await until(
        () => lines.some((line) => line.includes('"requestId":"ranged-download"')),
        'the request is logged',
      )
      const entry = lines.find((line) => line.includes('"requestId":"ranged-download"'))!
      expect(JSON.parse(entry) as unknown).toMatchObject({ msg: 'request', status: 206 })
    } finally {
      await gateway.close()
    }
  })

  it('answers a signed link as the web-stream path does, Referrer-Policy and all', async () => {
    const linkOf = async (gateway: NodeGateway, id: string) => {
      const made = await fetch(`${gateway.url}/kylin/api/async_query/${id}/link`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ ttl: 600 }),
      })
      expect(made.status).toBe(200)
      const { data } = (await made.json()) as { data: { url: string } }
      return data.url
    }
    const opened = openSpy.mock.calls.length
    const headers = { 'X-Request-Id': 'same-request', 'Accept-Encoding': 'identity' }
    const [mine, theirs] = await Promise.all([
      linkOf(direct, directId).then((url) => get(url, headers)),
      linkOf(streamed, streamedId).then((url) => get(url, headers)),
    ])
    expect(mine.status).toBe(200)
    expect(comparable(mine, directId)).toContain('referrer-policy: no-referrer')
    // The signature and expiry differ per gateway; nothing in the headers carries them.
    expect(comparable(mine, directId)).toEqual(comparable(theirs, streamedId))
    expect(mine.body.equals(theirs.body)).toBe(true)
    expect(openSpy.mock.calls.length - opened).toBe(1)
  })

  it('answers 404 RESULT_LOST as the web-stream path does when the file is gone', async () => {
    const [mineId, theirsId] = await Promise.all([
      storeResult(direct, 'select * from rows_10'),
      storeResult(streamed, 'select * from rows_10'),
    ])
    await rm(join(dirs[0]!, toResultKey(mineId)))
    await rm(join(dirs[1]!, toResultKey(theirsId)))
    const headers = { ...auth, 'X-Request-Id': 'same-request' }
    const [mine, theirs] = await Promise.all([
      get(`${direct.url}/kylin/api/async_query/${mineId}/result_download`, headers),
      get(`${streamed.url}/kylin/api/async_query/${theirsId}/result_download`, headers),
    ])
    expect(mine.status).toBe(404)
    expect(JSON.parse(mine.body.toString()) as unknown).toMatchObject({ code: '999' })
    // Nothing of the download's headers leaks into the error's.
    expect(comparable(mine, mineId)).toEqual(comparable(theirs, theirsId))
    const masked = (answer: Answer, gateway: NodeGateway, id: string) =>
      answer.body.toString().replaceAll(gateway.url, 'URL').replaceAll(id, 'ID')
    expect(masked(mine, direct, mineId)).toBe(masked(theirs, streamed, theirsId))
  })

  it('resets the connection when the file is shorter than its length', async () => {
    const id = await storeResult(direct, 'select * from rows_20000')
    const path = join(dirs[0]!, toResultKey(id))
    await truncate(path, 5_000)
    const res = await open(`${direct.url}/kylin/api/async_query/${id}/result_download`, auth)
    expect(res.statusCode).toBe(200)
    const length = Number(res.headers['content-length'])
    expect(length).toBeGreaterThan(5_000)
    const read = await readToEnd(res)
    expect(read).toEqual({ bytes: 5_000, outcome: 'error' })
    await until(() => openDescriptorsOf(path) === 0, 'the file is closed')
  })

  describe.skipIf(!existsSync('/proc/self/fd'))('a large file', () => {
    let id: string
    let path: string

    beforeAll(async () => {
      id = await storeResult(direct, LARGE_SQL)
      path = join(dirs[0]!, toResultKey(id))
    }, 60_000)

    it('sends the file byte for byte to a client that reads slowly', async () => {
      // Paused reads keep the socket full, so each read buffer waits for its write to finish
      // before the next read may fill it again; a buffer reused early would corrupt the body.
      const res = await open(`${direct.url}/kylin/api/async_query/${id}/result_download`, auth)
      const hash = createHash('sha256')
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk)
        bytes += chunk.length
        res.pause()
        setTimeout(() => res.resume(), 1)
      })
      await new Promise((resolve, reject) => {
        res.on('end', resolve)
        res.on('error', reject)
        res.resume()
      })
      const file = await readFile(path)
      expect(bytes).toBe(file.length)
      expect(hash.digest('hex')).toBe(createHash('sha256').update(file).digest('hex'))
    })

    it('closes the file when the client goes away mid-download', async () => {
      const res = await open(`${direct.url}/kylin/api/async_query/${id}/result_download`, auth)
      expect(res.statusCode).toBe(200)
      // The client reads nothing: the server waits on the socket with the file open.
      await until(() => openDescriptorsOf(path) === 1, 'the file is open')
      res.destroy()
      await until(() => openDescriptorsOf(path) === 0, 'the file is closed')
    })

    it('resets the connection when the file shrinks mid-download', async () => {
      const res = await open(`${direct.url}/kylin/api/async_query/${id}/result_download`, auth)
      const length = Number(res.headers['content-length'])
      await until(() => openDescriptorsOf(path) === 1, 'the file is open')
      // The open file loses its end while the client has not read a byte.
      await truncate(path, 1024 * 1024)
      const read = await readToEnd(res)
      expect(read.outcome).toBe('error')
      expect(read.bytes).toBeLessThan(length)
      await until(() => openDescriptorsOf(path) === 0, 'the file is closed')
    })
  })
})
