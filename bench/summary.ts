/**
 * The one table of `npm run bench`: the figures the other benches of the same run wrote to
 * bench-results/ (export, formats, polls, and many when present), each beside its baseline from
 * the same run and its goal; written again as bench-results/summary.json. Bench only.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { toMarkdownTable } from './gateway-harness.ts'
import { writeBenchResults } from './results-file.ts'

const DIR = join(import.meta.dirname, '..', 'bench-results')

interface Stamped {
  at: string
}
interface ExportFigures extends Stamped {
  sizes: {
    rows: number
    rawS: number
    naiveS: number | null
    gatewayS: number
    baselineMiB: number
    peakMiB: number
  }[]
}
interface FormatFigures extends Stamped {
  formats: { format: string; rows: number; seconds: number; peakMiB: number }[]
}
interface PollFigures extends Stamped {
  baseline: string
  targets: Record<string, { medianReqPerS: number; medianRateRatio: number }>
}
interface ManyFigures extends Stamped {
  exports: number
  single: { wallS: number; mbPerS: number }
  many: { wallS: number; mbPerS: number; peakMiB: number }
  wallRatioToSingle: number
}

function read<T>(name: string): T | null {
  const file = join(DIR, `${name}.json`)
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null
}

/** A figure of the table: what, the value, its baseline in the same run, the ratio, the goal. */
interface Row {
  figure: string
  value: string
  baseline: string
  ratio: string
  goal: string
  met: boolean | null
}

const s = (seconds: number) => `${seconds.toFixed(2)} s`
const mib = (value: number) => `${value.toFixed(0)} MiB`

function exportRows(figures: ExportFigures): Row[] {
  const rows: Row[] = []
  for (const size of figures.sizes) {
    const label = `${(size.rows / 1e6).toString()}M rows`
    const ratio = size.gatewayS / size.rawS
    rows.push({
      figure: `${label}: submit → SUCCESSFUL → whole CSV downloaded`,
      value: s(size.gatewayS),
      baseline: `raw transfer ${s(size.rawS)}`,
      ratio: `${ratio.toFixed(2)}×`,
      goal: size.rows === 1_000_000 ? '≤ 2.5×' : '',
      met: size.rows === 1_000_000 ? ratio <= 2.5 : null,
    })
    if (size.naiveS !== null) {
      rows.push({
        figure: `${label}: the same against a naive client`,
        value: s(size.gatewayS),
        baseline: `fetch + JSON.parse + join ${s(size.naiveS)}`,
        ratio: `${(size.gatewayS / size.naiveS).toFixed(2)}×`,
        goal: '',
        met: null,
      })
    }
    rows.push({
      figure: `${label}: gateway peak RSS (CSV)`,
      value: mib(size.peakMiB),
      baseline: `after start ${mib(size.baselineMiB)}`,
      ratio: '',
      goal: '≤ 120 MB',
      met: size.peakMiB * 1.048576 <= 120,
    })
  }
  return rows
}

function formatRows(figures: FormatFigures): Row[] {
  const list = figures.formats
  return list
    .filter((entry) => entry.format !== 'csv')
    .map((entry) => {
      const csv = list.find((other) => other.format === 'csv' && other.rows === entry.rows)
      return {
        figure: `${(entry.rows / 1e6).toString()}M rows as ${entry.format}: time, peak RSS`,
        value: `${s(entry.seconds)}, ${mib(entry.peakMiB)}`,
        baseline: csv ? `csv ${s(csv.seconds)}` : '',
        ratio: csv ? `${(entry.seconds / csv.seconds).toFixed(1)}×` : '',
        goal: 'RSS ≤ 150 MB',
        met: entry.peakMiB * 1.048576 <= 150,
      }
    })
}

function pollRows(figures: PollFigures): Row[] {
  const gateway = figures.targets.gateway
  if (!gateway) return []
  return [
    {
      figure: 'status polls (req/s, 50 connections)',
      value: gateway.medianReqPerS.toFixed(0),
      baseline: `${figures.baseline}, same server set-up and load`,
      ratio: gateway.medianRateRatio.toFixed(2),
      goal: '≥ 0.80',
      met: gateway.medianRateRatio >= 0.8,
    },
  ]
}

function manyRows(figures: ManyFigures): Row[] {
  return [
    {
      figure: `${figures.exports} concurrent 1M-row exports: aggregate MB/s, peak RSS`,
      value: `${figures.many.mbPerS.toFixed(0)} MB/s, ${mib(figures.many.peakMiB)}`,
      baseline: `one export alone, ${figures.single.mbPerS.toFixed(0)} MB/s`,
      ratio: `${figures.wallRatioToSingle.toFixed(1)}× its time`,
      goal: '',
      met: null,
    },
  ]
}

const sources = {
  export: read<ExportFigures>('export'),
  formats: read<FormatFigures>('formats'),
  polls: read<PollFigures>('polls'),
  many: read<ManyFigures>('many'),
}
const rows = [
  ...(sources.export ? exportRows(sources.export) : []),
  ...(sources.polls ? pollRows(sources.polls) : []),
  ...(sources.formats ? formatRows(sources.formats) : []),
  ...(sources.many ? manyRows(sources.many) : []),
]
const verdict = (met: boolean | null) => (met === null ? '' : met ? 'met' : 'not met')
console.log(
  `\n${toMarkdownTable(
    ['figure', 'value', 'baseline (same run)', 'ratio', 'goal', ''],
    rows.map((r) => [r.figure, r.value, r.baseline, r.ratio, r.goal, verdict(r.met)]),
  )}`,
)
for (const [name, figures] of Object.entries(sources)) {
  console.log(`${name}: ${figures ? `bench-results/${name}.json of ${figures.at}` : 'not run'}`)
}
console.log(`written to ${writeBenchResults('summary', { rows })}`)
