/**
 * Throughput of the GBK encoder on its own: UTF-8 chunks → GBK bytes (the transcoder the GBK
 * writer ends in), and the check of cell text, on ASCII, mixed and mostly-CJK text.
 * Run: npx tsx bench/gbk.bench.ts (MB=… of UTF-8 per text, RUNS=…). Node; medians after a warm-up.
 * The whole export in GBK against the fused UTF-8 kernel: npx tsx bench/transcode.bench.ts.
 */
import { findUnwritable } from '../src/export/encoding/gbk.ts'
import { createGbkTranscoder } from '../src/export/encoding/gbk-transcoder.ts'

const MB = Number(process.env.MB ?? 200)
const RUNS = Number(process.env.RUNS ?? 3)
const CHUNK = 64 * 1024

const encoder = new TextEncoder()

/** Kylin-like CSV lines: `cjk` of every 10 cells hold Chinese text, the rest ASCII. */
function toLine(i: number, cjk: number): string {
  const cells: string[] = []
  for (let c = 0; c < 10; c++) {
    cells.push(c < cjk ? `北京市朝阳区${i % 97}号€` : `2013-08-${10 + (i % 18)},${100000 + i}`)
  }
  return cells.join(',') + '\n'
}

/** Cells are checked on the first this many lines (as JS strings they take far more memory). */
const CHECK_LINES = 500_000

/** About MB megabytes of UTF-8 in 64 KiB chunks, cut anywhere (characters too), and cells. */
function buildText(cjk: number): { chunks: Uint8Array[]; cells: string[] } {
  const lines: string[] = []
  let size = 0
  for (let i = 0; size < MB * 1e6; i++) {
    const line = toLine(i, cjk)
    lines.push(line)
    size += encoder.encode(line).length
  }
  const whole = encoder.encode(lines.join(''))
  const chunks: Uint8Array[] = []
  for (let i = 0; i < whole.length; i += CHUNK) chunks.push(whole.subarray(i, i + CHUNK))
  const cells = lines.slice(0, CHECK_LINES).flatMap((line) => line.split(','))
  return { chunks, cells }
}

function transcode(chunks: Uint8Array[]): number {
  const transcoder = createGbkTranscoder()
  let bytes = 0
  for (const chunk of chunks) bytes += transcoder.push(chunk).length
  return bytes + transcoder.push(new Uint8Array(0), true).length
}

function check(cells: string[]): number {
  let bad = 0
  for (const cell of cells) if (findUnwritable(cell) >= 0) bad++
  if (bad !== 0) throw new Error('the bench text is all writable')
  return cells.length
}

/** UTF-8 decode alone, the floor under the transcoder. */
function decodeOnly(chunks: Uint8Array[]): number {
  const decoder = new TextDecoder()
  let units = 0
  for (const chunk of chunks) units += decoder.decode(chunk, { stream: true }).length
  return units
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

function time(run: () => number): number {
  run() // warm-up (JIT, the table at first use)
  const samples: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    run()
    samples.push((performance.now() - start) / 1000)
  }
  return median(samples)
}

for (const [name, cjk] of [
  ['ascii', 0],
  ['mixed (1 CJK cell in 10)', 1],
  ['mostly CJK (8 in 10)', 8],
] as const) {
  const { chunks, cells } = buildText(cjk)
  const mb = chunks.reduce((n, c) => n + c.length, 0) / 1e6
  const checked = cells.reduce((n, c) => n + encoder.encode(c).length, 0) / 1e6
  const out = transcode(chunks) / 1e6
  const line = (label: string, megabytes: number, seconds: number) =>
    `  ${label.padEnd(28)} ${seconds.toFixed(3)} s  ${(megabytes / seconds).toFixed(0).padStart(5)} MB/s`
  console.log(`${name}: ${mb.toFixed(0)} MB of UTF-8 → ${out.toFixed(0)} MB of GBK`)
  console.log(
    line(
      'utf-8 decode only',
      mb,
      time(() => decodeOnly(chunks)),
    ),
  )
  console.log(
    line(
      'transcode to GBK',
      mb,
      time(() => transcode(chunks)),
    ),
  )
  console.log(
    line(
      `check ${checked.toFixed(0)} MB of cells`,
      checked,
      time(() => check(cells)),
    ),
  )
}
