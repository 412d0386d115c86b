/**
 * `kylin-export` as a user runs it: a child process (src/cli/main.ts through tsx) against a real
 * Node gateway over the loopback fake Kylin, with a proxy that cuts or spoils downloads. Files
 * are read back by readers that share nothing with the gateway (hyparquet, apache-arrow).
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { tableFromIPC } from 'apache-arrow'
import { parquetReadObjects } from 'hyparquet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../src/runtime/node/gateway.ts'
import { runExportProcess, type ExportRun } from '../support/export-process.ts'
import {
  startDownloadFaultProxy,
  type DownloadFaultProxy,
} from '../support/download-fault-proxy.ts'
import {
  KYLIN_SALES_ROWS,
  startFakeKylin,
  toGeneratedRow,
  type FakeKylin,
} from '../support/fake-kylin.ts'

const PASSWORD = 'ANALYST'

let kylin: FakeKylin
let gateway: NodeGateway
let dir: string
const proxies: DownloadFaultProxy[] = []

beforeAll(async () => {
  kylin = await startFakeKylin()
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    STORE: 'memory',
  })
  const logDestination = new Writable({ write: (_chunk, _encoding, done) => done() })
  gateway = await startNodeGateway(config, { logDestination })
  dir = await mkdtemp(join(tmpdir(), 'kylin-export-'))
})

afterAll(async () => {
  for (const proxy of proxies) await proxy.close()
  await gateway?.close()
  await kylin?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

function runExport(
  args: string[],
  env: Record<string, string> = { KYLIN_PASSWORD: PASSWORD },
): Promise<ExportRun> {
  return runExportProcess(args, env)
}

const base = (url: string) => [
  '--url',
  url,
  '--user',
  'ANALYST',
  '--project',
  'learn_kylin',
  '--retry-delay',
  '50',
]

async function startProxy(faults: Parameters<typeof startDownloadFaultProxy>[1]) {
  const proxy = await startDownloadFaultProxy(gateway.url, faults)
  proxies.push(proxy)
  return proxy
}

/** The CSV the gateway stores for `select * from rows_<n>`. */
function generatedCsv(n: number): string {
  let csv = ''
  for (let i = 1; i <= n; i++) csv += `${toGeneratedRow(i).join(',')}\n`
  return csv
}

describe('kylin-export', () => {
  it('--help lists every option and the exit codes', async () => {
    const run = await runExport(['--help'], {})
    expect(run.code).toBe(0)
    for (const flag of [
      '--url',
      '--user',
      '--password-env',
      '--project',
      '--sql',
      '--sql-file',
      '--format',
      '--encode',
      '--separator',
      '--include-header',
      '--file-name',
      '--limit',
      '--offset',
      '--accept-partial',
      '--reuse-max-age',
      '--query-id',
      '--output',
      '--retries',
      '--retry-delay',
      '--quiet',
      '--help',
    ]) {
      expect(run.stdout).toContain(flag)
    }
    expect(run.stdout).toContain('KYLIN_PASSWORD')
    expect(run.stdout).toMatch(/Exit codes:[\s\S]*4 +the saved file differs/)
  })

  it('refuses a password on the command line without echoing it', async () => {
    const run = await runExport([
      ...base(gateway.url),
      '--sql',
      'select 1',
      '--password',
      'S3cr3t-pw',
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('never taken on the command line')
    expect(run.stdout + run.stderr).not.toContain('S3cr3t-pw')
    const inline = await runExport([
      ...base(gateway.url),
      '--sql',
      'select 1',
      '--password=S3cr3t-pw',
    ])
    expect(inline.code).toBe(2)
    expect(inline.stdout + inline.stderr).not.toContain('S3cr3t-pw')
  })

  it('asks for the password variable when none is set and no terminal can ask', async () => {
    const run = await runExport([...base(gateway.url), '--sql', 'select 1'], {})
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('set KYLIN_PASSWORD')
  })

  it('exports Parquet that hyparquet reads back, with plain progress lines off a terminal', async () => {
    const out = join(dir, 'rows.parquet')
    const run = await runExport([
      ...base(gateway.url),
      '--sql',
      'select * from rows_3000',
      '--format',
      'parquet',
      '-o',
      out,
    ])
    expect(run.stderr).toMatch(/query [0-9a-f-]{36} submitted/)
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(/SUCCESSFUL: 3,000 rows/)
    expect(run.stderr).toMatch(/downloading: .* of .* \(100%\)/)
    expect(run.stderr).toMatch(/saved .*rows\.parquet .*SHA-256 [0-9a-f]{64} checked/)
    expect(run.stderr).not.toContain('\r')
    expect(run.stdout + run.stderr).not.toContain(PASSWORD)
    const bytes = await readFile(out)
    const rows = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    })
    expect(rows).toHaveLength(3000)
    expect(rows[0]).toMatchObject({ ID: 1n, NAME: 'NAME_1' })
    expect(rows[2999]).toMatchObject({ ID: 3000n, NAME: 'NAME_3000' })
    expect(existsSync(`${out}.part`)).toBe(false)
  })

  it('tells the progress of a running query from its live events', async () => {
    const out = join(dir, 'slow.csv')
    const run = await runExport([
      ...base(gateway.url),
      '--sql',
      'select * from rows_10 -- sleep_ms_2500',
      '-o',
      out,
    ])
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(
      /submitted\nrunning: 0 rows, 0 B written\n[\s\S]*SUCCESSFUL: 10 rows/,
    )
    expect(await readFile(out, 'utf8')).toBe(generatedCsv(10))
  })

  it('draws a progress bar in place on a terminal', async () => {
    const out = join(dir, 'tty.csv')
    const command = [
      process.execPath,
      '--import',
      'tsx',
      'src/cli/main.ts',
      ...base(gateway.url),
      '--sql',
      "'select * from rows_20000'",
      '-o',
      out,
    ].join(' ')
    // util-linux script(1) runs the command on a pseudo-terminal, as a person would.
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        {
          cwd: join(import.meta.dirname, '..', '..'),
          env: { PATH: process.env.PATH ?? '', KYLIN_PASSWORD: PASSWORD, TERM: 'dumb' },
        },
        (error, stdout) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, output: String(stdout) }),
      )
    })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/\rdownloading {2}\[#+\] 100% .* of .*/)
    expect(run.output).toMatch(/saved .*tty\.csv/)
    expect(run.output).not.toMatch(/^downloading: /m)
    expect(await readFile(out, 'utf8')).toBe(generatedCsv(20000))
  })

  it('exports Arrow that apache-arrow reads back, named after --file-name', async () => {
    const cwdOut = join(dir, 'sales.arrow')
    const run = await runExport([
      ...base(gateway.url),
      '--sql',
      'select * from kylin_sales',
      '--format',
      'ARROW',
      '--file-name',
      'sales',
      '-o',
      cwdOut,
      '--quiet',
    ])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    const table = tableFromIPC(await readFile(cwdOut))
    expect(table.numRows).toBe(KYLIN_SALES_ROWS.length)
    expect(table.getChild('OPS_REGION')!.toArray()).toEqual(KYLIN_SALES_ROWS.map((r) => r[11]))
    expect(table.getChild('ITEM_ID')!.get(1)).toBeNull()
  })

  it('passes the CSV options of the submit (separator, header, limit, offset)', async () => {
    const out = join(dir, 'rows.csv')
    const run = await runExport([
      ...base(gateway.url),
      '--sql',
      'select * from rows_50',
      '--separator',
      '|',
      '--include-header',
      '--limit',
      '10',
      '--offset',
      '5',
      '-o',
      out,
      '-q',
    ])
    expect(run.code).toBe(0)
    const sent = kylin.requests.filter((r) => r.path === '/kylin/api/query').at(-1)!
    expect(JSON.parse(sent.body!)).toMatchObject({ limit: 10, offset: 5 })
    const text = await readFile(out, 'utf8')
    expect(text.split('\n')[0]).toBe('ID|NAME|PRICE')
    expect(text.split('\n')[1]).toBe(toGeneratedRow(1).join('|'))
  })

  it('resumes a cut download with Range and If-Range, and the file is whole', async () => {
    const proxy = await startProxy({ cutAfterBytes: [5000, 20000] })
    const out = join(dir, 'resumed.csv')
    const run = await runExport([...base(proxy.url), '--sql', 'select * from rows_5000', '-o', out])
    expect(run.code, run.stderr).toBe(0)
    const expected = generatedCsv(5000)
    expect(await readFile(out, 'utf8')).toBe(expected)
    const downloads = proxy.requests.filter((r) => r.path.includes('/result_download'))
    expect(downloads).toHaveLength(3)
    expect(downloads[0]!.range).toBeUndefined()
    // Where each attempt resumed is what the command kept; bytes a cut body had not handed over
    // yet are lost with it, so a resume may start before the cut.
    const offsets = [...run.stderr.matchAll(/resuming at byte (\d+)/g)].map((m) => Number(m[1]))
    expect(offsets).toHaveLength(2)
    expect(offsets[0]).toBeLessThanOrEqual(5000)
    expect(offsets[0]).toBeGreaterThan(0)
    const sha = createHash('sha256').update(expected).digest('hex')
    for (const [i, offset] of offsets.entries()) {
      const request = downloads[i + 1]!
      if (offset === 0) continue
      expect(request.range).toBe(`bytes=${offset}-`)
      expect(request.ifRange).toBe(`"${sha}"`)
      expect(request.status).toBe(206)
    }
  })

  it('keeps the partial file when the download stays cut, and --query-id resumes it later', async () => {
    const cutting = await startProxy({ cutAfterBytes: [3000] })
    const out = join(dir, 'later.csv')
    const first = await runExport([
      ...base(cutting.url),
      '--sql',
      'select * from rows_4000',
      '-o',
      out,
      '--retries',
      '0',
    ])
    expect(first.code).toBe(3)
    expect(first.stderr).toMatch(
      /download cut at byte \d+ after 1 attempt \(.+\); \S+later\.csv\.part is kept/,
    )
    // Bytes the cut body had not handed over are lost with it: what is kept is what it says.
    const kept = Number(/download cut at byte (\d+)/.exec(first.stderr)![1])
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThanOrEqual(3000)
    expect((await stat(`${out}.part`)).size).toBe(kept)
    expect(existsSync(out)).toBe(false)
    const id = /query ([0-9a-f-]{36}) submitted/.exec(first.stderr)![1]!

    const clean = await startProxy({})
    const second = await runExport([
      '--url',
      clean.url,
      '--user',
      'ANALYST',
      '--query-id',
      id,
      '-o',
      out,
      '-q',
    ])
    expect(second.code).toBe(0)
    expect(await readFile(out, 'utf8')).toBe(generatedCsv(4000))
    const download = clean.requests.find((r) => r.path.includes('/result_download'))!
    expect(download.range).toBe(`bytes=${kept}-`)
    expect(download.status).toBe(206)
    expect(existsSync(`${out}.part`)).toBe(false)
    expect(existsSync(`${out}.part.json`)).toBe(false)
  })

  it('refuses a file whose SHA-256 differs, removes it and exits 4', async () => {
    const proxy = await startProxy({ corruptByteAt: 10 })
    const out = join(dir, 'spoiled.csv')
    const run = await runExport([...base(proxy.url), '--sql', 'select * from rows_100', '-o', out])
    expect(run.code).toBe(4)
    expect(run.stderr).toMatch(
      /not the stored result \(its SHA-256 is [0-9a-f]{64} where the gateway stored [0-9a-f]{64}\); it was removed/,
    )
    expect(existsSync(out)).toBe(false)
    expect(existsSync(`${out}.part`)).toBe(false)
  })

  it("exits 1 with Kylin's message when the query fails", async () => {
    const out = join(dir, 'failed.csv')
    const run = await runExport([
      ...base(gateway.url),
      '--sql',
      'select * from no_such_table',
      '-o',
      out,
    ])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/query [0-9a-f-]{36} failed: .*Object 'NO_SUCH_TABLE' not found/)
    expect(existsSync(out)).toBe(false)
  })

  it("exits 1 with the gateway's envelope message on a refused call", async () => {
    const run = await runExport([...base(gateway.url), '--sql', 'select 1'], {
      KYLIN_PASSWORD: 'wrong',
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/submit failed: .+ \(HTTP 401\)/)
    expect(run.stderr).not.toContain('wrong')
    const badFormat = await runExport([
      ...base(gateway.url),
      '--sql',
      'select * from rows_1',
      '--encode',
      'latin-9',
    ])
    expect(badFormat.code).toBe(1)
    expect(badFormat.stderr).toMatch(/failed: .*latin-9/i)
  })

  it('on Ctrl-C exits 130 and names the query to pick up with --query-id', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        ...base(gateway.url),
        '--sql',
        'select * from rows_10 -- sleep_ms_5000',
      ],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        env: { PATH: process.env.PATH ?? '', KYLIN_PASSWORD: PASSWORD },
      },
    )
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk)
      if (/submitted/.test(stderr)) child.kill('SIGINT')
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(130)
    const id = /query ([0-9a-f-]{36}) submitted/.exec(stderr)![1]!
    expect(stderr).toContain(`interrupted; --query-id ${id} picks the query up again`)
  })

  it('exits 3 when the gateway cannot be reached', async () => {
    const closed = await startProxy({})
    await closed.close()
    const run = await runExport([...base(closed.url), '--sql', 'select 1'])
    expect(run.code).toBe(3)
    expect(run.stderr).toMatch(
      /cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(submit\): ECONNREFUSED/,
    )
  })
})
