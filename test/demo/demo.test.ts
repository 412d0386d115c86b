/**
 * `npm run demo` end to end, as a user runs it: every curl example of both specs and every
 * command the demo prints, through real curl against the started demo; then Ctrl-C stops both.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeCsvRow } from '../../src/export/csv/encode.ts'
import { LEARN_KYLIN_ROWS } from '../../demo/kylin/sample-learn-kylin.ts'
import { toSsbRowCounts } from '../../demo/kylin/sample-ssb.ts'
import { toTryItPrelude, toTryItSteps } from '../../demo/try-it.ts'
import {
  adjustSpecCommand,
  SPEC_CURL_EXAMPLES,
  SPEC_QUERIES,
  toShellWords,
  type SpecCurlExample,
} from './spec-curl-examples.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const run = promisify(execFile)
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ADMIN = `Basic ${Buffer.from('ADMIN:KYLIN').toString('base64')}`

let demo: ChildProcess
let stdout = ''
let stderr = ''
let gatewayUrl: string
let kylinUrl: string
let work: string

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kylin-demo-'))
  // Its own process group, so the test can press "Ctrl-C" for the whole of `npm run demo`.
  demo = spawn('npm', ['run', '--silent', 'demo', '--', '--port', '0', '--kylin-port', '0'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: join(work, 'data') },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  demo.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  demo.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const deadline = Date.now() + 50_000
  while (!/^Gateway\s+(\S+)/m.test(stdout) || !stdout.includes('/kylin/api/query\n')) {
    if (demo.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the demo did not start:\n${stdout}\n${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  gatewayUrl = /^Gateway\s+(\S+)/m.exec(stdout)![1]!
  kylinUrl = /^Kylin emulator\s+(\S+)/m.exec(stdout)![1]!
}, 60_000)

afterAll(async () => {
  if (demo.exitCode === null && demo.signalCode === null) process.kill(-demo.pid!, 'SIGKILL')
  await rm(work, { recursive: true, force: true })
})

interface CurlAnswer {
  status: number
  headers: Record<string, string>
  body: Buffer
  json(): { code: string; data: unknown; msg: string }
}

/** Runs curl with the spec's own arguments, adding only -s and where to put the answer. */
async function curl(args: string[]): Promise<CurlAnswer> {
  const headerFile = join(work, 'headers.txt')
  const bodyFile = join(work, 'body.bin')
  const { stdout: code } = await run('curl', [
    ...args,
    '-sS',
    '-D',
    headerFile,
    '-o',
    bodyFile,
    '-w',
    '%{http_code}',
  ])
  const headers: Record<string, string> = {}
  for (const line of (await readFile(headerFile, 'utf8')).split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  const body = await readFile(bodyFile)
  return { status: Number(code), headers, body, json: () => JSON.parse(body.toString('utf8')) }
}

const runExample = (example: SpecCurlExample, queryId?: string) => {
  const words = toShellWords(adjustSpecCommand(example.original, { gatewayUrl, queryId }))
  expect(words[0]).toBe('curl')
  return curl(words.slice(1))
}

/** The CSV the gateway must produce: the same SQL asked synchronously, through the gateway. */
async function toExpectedCsv(sql: string, project: string): Promise<{ csv: string; rows: number }> {
  const response = await fetch(`${gatewayUrl}/kylin/api/query`, {
    method: 'POST',
    headers: { Authorization: ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql, project }),
  })
  expect(response.status).toBe(200)
  const answer = (await response.json()) as { results: (string | null)[][] }
  return {
    csv: answer.results.map((row) => encodeCsvRow(row, ',')).join(''),
    rows: answer.results.length,
  }
}

async function waitForSuccess(statusExample: SpecCurlExample, queryId: string) {
  const deadline = Date.now() + 30_000
  for (;;) {
    const answer = await runExample(statusExample, queryId)
    const data = answer.json().data as { status: string; info: string }
    if (data.status !== 'RUNNING') return
    if (Date.now() > deadline) throw new Error(`${queryId} still RUNNING`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.each(['000 (KAP v2)', '001 (Kylin)'] as const)('the curl examples of spec %s', (spec) => {
  const examples = SPEC_CURL_EXAMPLES.filter((e) => e.spec === spec)
  const contentType =
    spec === '000 (KAP v2)' ? 'application/vnd.apache.kylin-v2+json' : 'application/json'

  it('run against the demo with the documented answers, submit to delete', async () => {
    const { sql, project } = SPEC_QUERIES[spec]
    const expected = await toExpectedCsv(sql, project)
    const columns = spec === '000 (KAP v2)' ? 13 : 18
    expect(expected.rows).toBe(spec === '000 (KAP v2)' ? LEARN_KYLIN_ROWS.KYLIN_SALES : 100)

    const [submit, ...rest] = examples
    expect(submit!.step).toBe('submit')
    const submitted = await runExample(submit!)
    expect(submitted.status, submitted.body.toString()).toBe(200)
    expect(submitted.headers['content-type']).toContain(contentType)
    const envelope = submitted.json()
    expect(envelope).toMatchObject({
      code: '000',
      msg: '',
      data: { status: 'RUNNING', info: 'still running' },
    })
    const queryId = (envelope.data as { queryID: string }).queryID
    expect(queryId).toMatch(UUID)

    await waitForSuccess(examples.find((e) => e.step === 'status')!, queryId)

    let fileSize: number | undefined
    for (const example of rest) {
      const answer = await runExample(example, queryId)
      const what = `${spec} ${example.section}: ${answer.body.toString().slice(0, 300)}`
      expect(answer.status, what).toBe(200)
      if (example.step === 'result_download' || example.step === 'result') {
        expect(answer.headers['content-type'], what).toMatch(/^text\/csv;\s*charset=utf-8/i)
        expect(answer.headers['content-disposition'], what).toContain('result.csv')
        const csv = answer.body.toString('utf8')
        expect(csv).toBe(expected.csv)
        expect(csv.split('\n')[0]!.split(',')).toHaveLength(columns)
        if (fileSize !== undefined) expect(answer.body.byteLength).toBe(fileSize)
        continue
      }
      expect(answer.headers['content-type'], what).toContain(contentType)
      const { code, data, msg } = answer.json()
      expect(code, what).toBe('000')
      expect(msg, what).toBe('')
      switch (example.step) {
        case 'status':
          expect(data).toEqual({
            queryID: queryId,
            status: 'SUCCESSFUL',
            info: 'await fetching results',
            rows: expected.rows,
            bytes: Buffer.byteLength(expected.csv),
            sha256: createHash('sha256').update(expected.csv).digest('hex'),
          })
          break
        case 'metadata': {
          const [names, types] = data as [string[], string[]]
          expect(names.slice(0, 3)).toEqual(['TRANS_ID', 'PART_DT', 'LSTG_FORMAT_NAME'])
          expect(types.slice(0, 3)).toEqual(['BIGINT', 'DATE', 'VARCHAR'])
          expect(names).toHaveLength(columns)
          expect(types[names.indexOf('PRICE')]).toBe('DECIMAL')
          break
        }
        case 'filestatus':
          expect(data).toBe(Buffer.byteLength(expected.csv))
          fileSize = data as number
          break
        case 'result_path':
          expect(data).toEqual(expect.stringContaining(`${queryId}.csv`))
          break
        case 'delete_all': {
          expect(data).toBe(true)
          const gone = await runExample(examples.find((e) => e.step === 'status')!, queryId)
          expect(gone.json().data).toMatchObject({ status: 'MISSING' })
          break
        }
        default:
          throw new Error(`no check for ${example.step}`)
      }
    }
  })
})

describe('the commands the demo prints', () => {
  it('are all in its output, and each one works', async () => {
    const steps = toTryItSteps(gatewayUrl)
    const prelude = toTryItPrelude(gatewayUrl)
    for (const text of [prelude, ...steps.map((s) => s.command)]) expect(stdout).toContain(text)

    let id = ''
    const outputs: string[] = []
    for (const step of steps) {
      const { stdout: out } = await run('bash', ['-c', `${prelude}\nID=${id}\n${step.command}`], {
        cwd: work,
      })
      if (!id) id = out.trim()
      outputs.push(out)
    }
    const [submitted, waited, metadata, size, downloaded, path, deleted, sync, tables] = outputs
    const lineorders = toSsbRowCounts(0.01).LINEORDER
    expect(submitted!.trim()).toMatch(UUID)
    expect(JSON.parse(waited!).data).toMatchObject({
      query_id: id,
      status: 'SUCCESSFUL',
      info: 'await fetching results',
      rows: lineorders,
    })
    const [names, types] = JSON.parse(metadata!).data as [string[], string[]]
    expect(names[0]).toBe('LO_ORDERKEY')
    expect(names.at(-1)).toBe('V_REVENUE')
    expect(types[names.indexOf('LO_ORDERDATE')]).toBe('DATE')
    const bytes = JSON.parse(size!).data as number
    expect(downloaded!.trim()).toBe(`${bytes} bytes`)
    const csv = await readFile(join(work, 'result.csv'), 'utf8')
    expect(Buffer.byteLength(csv)).toBe(bytes)
    // What the status said the result is, the saved file is.
    expect(JSON.parse(waited!).data).toMatchObject({
      bytes,
      sha256: createHash('sha256').update(csv).digest('hex'),
    })
    const lines = csv.split('\n')
    expect(lines[0]).toBe(names.join(','))
    expect(lines).toHaveLength(1 + lineorders + 1)
    expect(JSON.parse(path!).data).toContain(`${id}.csv`)
    expect(JSON.parse(deleted!)).toEqual({ code: '000', data: true, msg: '' })
    const answer = JSON.parse(sync!) as { columnMetas: { label: string }[]; results: string[][] }
    expect(answer.columnMetas.map((m) => m.label)).toEqual(['LSTG_FORMAT_NAME', 'GMV'])
    expect(answer.results).toHaveLength(5)
    const listed = JSON.parse(tables!) as { table_NAME: string; columns: unknown[] }[]
    expect(listed.map((t) => t.table_NAME)).toContain('KYLIN_SALES')
    expect(listed.every((t) => t.columns.length > 0)).toBe(true)
  })
})

describe('the console', () => {
  it('is printed with its address, which serves the page', async () => {
    const url = /^Console\s+(\S+)/m.exec(stdout)?.[1]
    expect(url).toBe(`${gatewayUrl}/console`)
    const res = await fetch(url!)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('src="console/app.js"')
  })
})

describe('Ctrl-C', () => {
  it('stops the gateway and the emulator, and the demo says it stopped', async () => {
    // 'close' waits for every process holding the demo's output, npm's children included.
    const closed = new Promise<void>((resolve) => demo.once('close', () => resolve()))
    process.kill(-demo.pid!, 'SIGINT')
    await closed
    expect(stderr).toContain('kylin demo: SIGINT, stopping the gateway and the emulator')
    expect(stderr).toContain('kylin demo: stopped')
    expect(stderr).not.toContain('again')
    for (const url of [gatewayUrl, kylinUrl]) expect(await isListening(new URL(url))).toBe(false)
  })
})

function isListening(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
