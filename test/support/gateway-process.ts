/**
 * The Node gateway as a child process (src/runtime/node/main.ts through tsx) on a free loopback port,
 * resolved once it says where it listens. Tests only, Node only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')
/** Output kept for the early-exit message; the gateway may log for as long as it runs. */
const MAX_KEPT_OUTPUT = 100_000

export interface GatewayProcess {
  url: string
  child: ChildProcess
  /** The exit code, once the process has closed. */
  exited: Promise<number | null>
}

/** Starts a gateway with only PATH and `env` in its environment. */
export function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/runtime/node/main.ts', '--port', '0', '--host', '127.0.0.1'],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } },
  )
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stderr.on('data', (d) => (out += d))
    child.stdout.on('data', (d) => {
      if (out.length < MAX_KEPT_OUTPUT) out += d
      const match = /listening on (http:\/\/[^\s,]+)/.exec(out)
      if (match) resolve({ url: match[1]!, child, exited })
    })
    void exited.then(() => reject(new Error(`gateway exited early: ${out}`)))
  })
}
