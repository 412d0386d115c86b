/**
 * The export command's password: from the environment first; on a terminal, asked in raw mode
 * with nothing echoed (backspace edits, Ctrl-C gives up); elsewhere a usage error.
 */
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/options.ts'
import { readPassword } from '../../src/cli/password.ts'

function terminal(isTTY: boolean) {
  const stdin = new PassThrough() as PassThrough & {
    isTTY: boolean
    isRaw: boolean
    setRawMode(mode: boolean): void
  }
  stdin.isTTY = isTTY
  stdin.isRaw = false
  const rawModes: boolean[] = []
  stdin.setRawMode = (mode) => {
    rawModes.push(mode)
    stdin.isRaw = mode
  }
  let shown = ''
  const stderr = { write: (text: string) => void (shown += text) }
  return {
    stdin,
    rawModes,
    shown: () => shown,
    sources: (env: Record<string, string | undefined> = {}) => ({
      env,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
    }),
  }
}

describe('readPassword', () => {
  it('takes the environment variable first, without asking', async () => {
    const tty = terminal(true)
    expect(
      await readPassword('KYLIN_PASSWORD', 'ADMIN', tty.sources({ KYLIN_PASSWORD: 'pw' })),
    ).toBe('pw')
    expect(tty.shown()).toBe('')
  })

  it('asks on a terminal in raw mode and echoes nothing typed', async () => {
    const tty = terminal(true)
    const answer = readPassword('KYLIN_PASSWORD', 'ADMIN', tty.sources())
    tty.stdin.write('s3cr')
    tty.stdin.write('\u007fet-pw\r')
    expect(await answer).toBe('s3cet-pw')
    expect(tty.shown()).toBe('Password for ADMIN: \n')
    expect(tty.rawModes).toEqual([true, false])
  })

  it('gives up on Ctrl-C, and refuses to guess when no terminal can ask', async () => {
    const tty = terminal(true)
    const answer = readPassword('KYLIN_PASSWORD', 'ADMIN', tty.sources())
    tty.stdin.write('abc\u0003')
    await expect(answer).rejects.toThrow(UsageError)
    expect(tty.rawModes).toEqual([true, false])
    const piped = terminal(false)
    await expect(readPassword('MY_PW', 'ADMIN', piped.sources())).rejects.toThrow(/set MY_PW/)
  })
})
