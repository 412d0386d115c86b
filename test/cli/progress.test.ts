/**
 * The export command's progress: a bar redrawn in place on a terminal, throttled plain lines
 * elsewhere, nothing with --quiet.
 */
import { describe, expect, it } from 'vitest'
import { createProgress, formatBytes, toBar } from '../../src/cli/progress.ts'

function sink(isTTY: boolean) {
  const written: string[] = []
  return { written, output: { isTTY, columns: 80, write: (text: string) => written.push(text) } }
}

describe('progress', () => {
  it('redraws one bar line in place on a terminal, then ends it before a note', () => {
    const { written, output } = sink(true)
    let now = 0
    const progress = createProgress(output, { quiet: false, now: () => now })
    progress.running(1234, 2048)
    now = 200
    progress.downloading(512, 2048)
    // Within 100 ms of the last redraw: skipped, unless it is the last byte.
    progress.downloading(1024, 2048)
    progress.downloading(2048, 2048)
    progress.note('saved out.csv')
    expect(written[0]).toMatch(/^\rrunning +1,234 rows, 2\.0 KiB written +$/)
    expect(written[0]).toHaveLength(80)
    expect(written[1]).toContain('[######..................]  25% 512 B of 2.0 KiB')
    expect(written[2]).toContain('[########################] 100% 2.0 KiB of 2.0 KiB')
    expect(written.slice(3)).toEqual(['\n', 'saved out.csv\n'])
  })

  it('writes plain lines off a terminal, at most one a second, and always the last', () => {
    const { written, output } = sink(false)
    let now = 0
    const progress = createProgress(output, { quiet: false, now: () => now })
    progress.running(10, 100)
    now = 500
    progress.running(20, 200)
    now = 1500
    progress.running(30, 300)
    progress.downloading(300, 300)
    expect(written).toEqual([
      'running: 10 rows, 100 B written\n',
      'running: 30 rows, 300 B written\n',
      'downloading: 300 B of 300 B (100%)\n',
    ])
    expect(written.join('')).not.toContain('\r')
  })

  it('says nothing when quiet', () => {
    const { written, output } = sink(true)
    const progress = createProgress(output, { quiet: true })
    progress.note('x')
    progress.running(1, 1)
    progress.downloading(1, 2)
    progress.finish()
    expect(written).toEqual([])
  })

  it('sizes bytes and fills the bar by the fraction done', () => {
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB')
    expect(toBar(0, 0)).toBe(`[${'#'.repeat(24)}] 100%`)
    expect(toBar(1, 3)).toBe(`[${'#'.repeat(8)}${'.'.repeat(16)}]  33%`)
  })
})
