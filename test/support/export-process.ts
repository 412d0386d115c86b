/**
 * Runs the `kylin-export` command (src/cli/main.ts through tsx) as a child process, with only
 * PATH and the given environment, and resolves with its exit code and output. Tests only, Node only.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')

export interface ExportRun {
  code: number
  stdout: string
  stderr: string
}

export function runExportProcess(args: string[], env: Record<string, string>): Promise<ExportRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}
