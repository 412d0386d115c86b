/**
 * The cost of shadow runs: a 1M-row export (`bench_<n>` of the stand-in upstream) through a
 * gateway without KYLIN_SHADOW_URL and through one that shadows every query to the same
 * stand-in, in the same run, each in a fresh process: time until SUCCESSFUL and until the
 * download has drained (the client's view, which a shadow must not slow), time until the shadow's
 * verdict, and the gateway's peak RSS (VmHWM), with the ratios shadow / none.
 * Run: npm run build, then npx tsx bench/shadow.bench.ts (ROWS=…, RUNS=…). Node only; not part
 * of `npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AUTH,
  callGatewayJson,
  describeError,
  type Gateway,
  log,
  median,
  pool,
  prepare,
  PROJECT,
  querySql,
  renewPool,
  seconds,
  sleep,
  startGateway,
  startUpstream,
  toMarkdownTable,
} from './gateway-harness.ts'
import { httpDrain } from './http-drain.ts'
import { readMemory } from './processes.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 3)
const POLL_MS = 20

interface ShadowStatus {
  status: string
  shadow?: { status: string; match: boolean | null; rows: number | null; message?: string }
}

interface Leg {
  name: string
  readyS: number
  totalS: number
  /** From submit until the shadow's verdict; null without shadowing. */
  verdictS: number | null
  peakMiB: number
  baselineMiB: number
}

/**
 * One export: submit → poll every 20 ms until SUCCESSFUL → drain /result_download with node:http;
 * with shadowing, then poll until the shadow's verdict; then DELETE (not timed).
 */
async function runOnce(gateway: Gateway, shadowed: boolean, csvNewlines: number) {
  const url = gateway.ready
  const started = performance.now()
  const { queryID: id } = await callGatewayJson<{ queryID: string }>(url, '', {
    method: 'POST',
    body: JSON.stringify({ sql: querySql(ROWS), project: PROJECT }),
  })
  let status: ShadowStatus
  for (;;) {
    status = await callGatewayJson<ShadowStatus>(url, `/${id}/status`)
    if (status.status === 'SUCCESSFUL') break
    if (status.status !== 'RUNNING') throw new Error(`the query ended ${status.status}`)
    await sleep(POLL_MS)
  }
  const readyS = seconds(started)
  const drained = await httpDrain(`${url}/kylin/api/async_query/${id}/result_download`, {
    headers: { Authorization: AUTH, 'Accept-Encoding': 'identity' },
  })
  if (drained.status !== 200) throw new Error(`download: ${drained.status}`)
  if (drained.newlines !== csvNewlines) {
    throw new Error(`downloaded ${drained.newlines} line ends, expected ${csvNewlines}`)
  }
  const totalS = seconds(started)
  let verdictS: number | null = null
  if (shadowed) {
    for (;;) {
      const shadow = status.shadow
      if (!shadow) throw new Error('the query was not shadowed')
      if (shadow.status !== 'RUNNING') {
        if (shadow.match !== true) throw new Error(`no match: ${JSON.stringify(shadow)}`)
        break
      }
      await sleep(POLL_MS)
      status = await callGatewayJson<ShadowStatus>(url, `/${id}/status`)
    }
    verdictS = seconds(started)
  }
  await callGatewayJson<boolean>(url, `/${id}`, { method: 'DELETE' })
  return { readyS, totalS, verdictS }
}

async function measureLeg(
  name: string,
  upstreamUrl: string,
  workDir: string,
  settings: string[],
  csvNewlines: number,
): Promise<Leg> {
  const dataDir = mkdtempSync(join(workDir, `${name}-`))
  // A fresh process per leg: VmHWM is a lifetime peak.
  const gateway = await startGateway(upstreamUrl, dataDir, settings)
  const shadowed = settings.length > 0
  try {
    const baseline = readMemory(gateway.pid)
    const ready: number[] = []
    const total: number[] = []
    const verdicts: number[] = []
    for (let run = 1; run <= RUNS; run++) {
      await renewPool()
      const r = await runOnce(gateway, shadowed, csvNewlines).catch((error: unknown) => {
        throw new Error(`${describeError(error)}\n${gateway.stderrTail().trim()}`)
      })
      ready.push(r.readyS)
      total.push(r.totalS)
      if (r.verdictS !== null) verdicts.push(r.verdictS)
      const memory = readMemory(gateway.pid)
      log(
        `  ${name} run ${run}: SUCCESSFUL at ${r.readyS.toFixed(2)} s, drained at ${r.totalS.toFixed(2)} s` +
          (shadowed ? `, verdict at ${verdicts.at(-1)!.toFixed(2)} s` : '') +
          `, RSS ${memory.rssMiB.toFixed(0)} MiB, peak ${memory.peakMiB.toFixed(0)} MiB`,
      )
    }
    return {
      name,
      readyS: median(ready),
      totalS: median(total),
      verdictS: shadowed ? median(verdicts) : null,
      peakMiB: readMemory(gateway.pid).peakMiB,
      baselineMiB: baseline.rssMiB,
    }
  } finally {
    await gateway.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), 'kylin-shadow-bench-'))
  process.on('exit', () => rmSync(workDir, { recursive: true, force: true }))
  log(`shadow bench: ${ROWS} rows, ${RUNS} runs per leg; Node ${process.version}`)
  const upstream = await startUpstream()
  const legs: Leg[] = []
  try {
    const { csvNewlines } = await prepare(upstream.ready, ROWS)
    legs.push(await measureLeg('none', upstream.ready, workDir, [], csvNewlines))
    legs.push(
      await measureLeg(
        'shadow',
        upstream.ready,
        workDir,
        [
          // The same stand-in as the new cluster: the answers match, the work is all there.
          ...['--shadow-url', upstream.ready, '--shadow-sample', '1'],
        ],
        csvNewlines,
      ),
    )
  } finally {
    await pool.destroy()
    await upstream.stop()
  }
  const [none, shadow] = legs as [Leg, Leg]
  log('\nShadow runs: medians; RSS from /proc/<pid>/status (VmHWM is the lifetime peak).')
  log(
    'SUCCESSFUL / drained: from submit, as the client sees it; verdict: from submit until the shadow answered.\n',
  )
  log(
    toMarkdownTable(
      ['leg', 'SUCCESSFUL s', 'drained s', 'verdict s', 'RSS after start MiB', 'peak RSS MiB'],
      legs.map((leg) => [
        leg.name,
        leg.readyS.toFixed(2),
        leg.totalS.toFixed(2),
        leg.verdictS === null ? '—' : leg.verdictS.toFixed(2),
        leg.baselineMiB.toFixed(1),
        leg.peakMiB.toFixed(1),
      ]),
    ),
  )
  log(
    `\nratio shadow / none: SUCCESSFUL ×${(shadow.readyS / none.readyS).toFixed(2)}, ` +
      `drained ×${(shadow.totalS / none.totalS).toFixed(2)}, ` +
      `verdict vs drained ×${(shadow.verdictS! / none.totalS).toFixed(2)}, ` +
      `peak RSS ×${(shadow.peakMiB / none.peakMiB).toFixed(2)}`,
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`${describeError(error)}\n`)
  process.exit(1)
})
