/**
 * The Node entry as a real process: --help, one-line start-up errors, the start-up line,
 * serving, and a clean exit on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..', '..')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/runtime/node/main.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('node entry', () => {
  it('lists every setting with --help', async () => {
    const result = await run(['--help'])
    expect(result.code).toBe(0)
    for (const flag of [
      '--upstream',
      '--port',
      '--host',
      '--store',
      '--data-dir',
      '--max-body-bytes',
      '--log-level',
    ]) {
      expect(result.stdout).toContain(flag)
    }
  })

  it.each([
    [[], {}, 'KYLIN_UPSTREAM_URL (--upstream) is required'],
    [['--upstream', 'http://k:7070', '--port', 'nope'], {}, 'PORT (--port) has a bad value "nope"'],
    [
      [],
      { KYLIN_UPSTREAM_URL: 'http://k:7070', STORE: 'tape' },
      'STORE (--store) has a bad value "tape"',
    ],
    [['--no-such-flag'], {}, "Unknown option '--no-such-flag'"],
  ])('stops with one clear line for %j %j', async (args, env, message) => {
    const result = await run(args, env)
    expect(result.code).toBe(2)
    const first = result.stderr.split('\n')[0]
    expect(first).toContain(message)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('stops with one line naming DATA_DIR when the fs store cannot take a write', async () => {
    // A directory cannot be made under a file, whoever runs the test (root included).
    const dir = await mkdtemp(join(tmpdir(), 'main-data-'))
    const file = join(dir, 'not-a-directory')
    await writeFile(file, '')
    try {
      const result = await run(['--port', '0', '--host', '127.0.0.1'], {
        KYLIN_UPSTREAM_URL: 'http://127.0.0.1:9',
        DATA_DIR: join(file, 'data'),
      })
      expect(result.code).toBe(2)
      const lines = result.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(
        `DATA_DIR (--data-dir) ${join(file, 'data')} does not take a write`,
      )
      expect(lines[0]).toContain('ENOTDIR')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('starts, says where it listens, serves, and exits cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/runtime/node/main.ts',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--store',
        'memory',
      ],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', KYLIN_UPSTREAM_URL: 'http://127.0.0.1:9' },
      },
    )
    let stdout = ''
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d
        const match = /listening on (http:\/\/[^\s,]+)/.exec(stdout)
        if (match) resolve(match[1]!)
      })
      child.on('close', () => reject(new Error(`exited early: ${stdout}`)))
    })
    expect(stdout).toContain('upstream http://127.0.0.1:9')
    expect(stdout).toContain('store memory')
    const health = await fetch(`${url}/healthz`)
    expect(health.status).toBe(200)
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
