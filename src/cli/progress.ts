/**
 * What the export command tells while it works, on stderr: a bar redrawn in place on a terminal,
 * plain lines (at most one a second for progress) elsewhere, nothing with --quiet. Never a
 * credential, never a row. Node only (the command's own part).
 */

export interface ProgressOutput {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface Progress {
  /** A line that stays (submitted, saved, resumed). */
  note(text: string): void
  running(rows: number, bytes: number): void
  downloading(received: number, total: number): void
  /** Ends a bar line so what follows starts on its own line. */
  finish(): void
}

const PLAIN_INTERVAL_MS = 1000
/** A terminal bar is redrawn at most this often (a download passes thousands of chunks). */
const BAR_INTERVAL_MS = 100
const BAR_WIDTH = 24

export function createProgress(
  output: ProgressOutput,
  options: { quiet: boolean; now?: () => number },
): Progress {
  if (options.quiet) return { note() {}, running() {}, downloading() {}, finish() {} }
  const now = options.now ?? Date.now
  if (output.isTTY) {
    let open = false
    let drawnAt = -Infinity
    const draw = (line: string, force = false) => {
      const at = now()
      if (!force && at - drawnAt < BAR_INTERVAL_MS) return
      drawnAt = at
      const width = Math.max(20, (output.columns || 80) - 1)
      output.write(`\r${line.slice(0, width).padEnd(width)}`)
      open = true
    }
    const finish = () => {
      if (open) output.write('\n')
      open = false
    }
    return {
      note(text) {
        finish()
        output.write(`${text}\n`)
      },
      running(rows, bytes) {
        draw(`running      ${formatCount(rows)} rows, ${formatBytes(bytes)} written`)
      },
      downloading(received, total) {
        draw(
          `downloading  ${toBar(received, total)} ${formatBytes(received)} of ${formatBytes(total)}`,
          received === total,
        )
      },
      finish,
    }
  }
  let lastLine = -Infinity
  const throttled = (line: string, force: boolean) => {
    const at = now()
    if (!force && at - lastLine < PLAIN_INTERVAL_MS) return
    lastLine = at
    output.write(`${line}\n`)
  }
  return {
    note(text) {
      output.write(`${text}\n`)
    },
    running(rows, bytes) {
      throttled(`running: ${formatCount(rows)} rows, ${formatBytes(bytes)} written`, false)
    },
    downloading(received, total) {
      throttled(
        `downloading: ${formatBytes(received)} of ${formatBytes(total)} (${toPercent(received, total)})`,
        received === total,
      )
    },
    finish() {},
  }
}

export function toBar(done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1
  const filled = Math.round(fraction * BAR_WIDTH)
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${toPercent(done, total).padStart(4)}`
}

function toPercent(done: number, total: number): string {
  return `${total > 0 ? Math.floor((Math.min(done, total) / total) * 100) : 100}%`
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`
}
