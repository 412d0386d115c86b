/**
 * A real redis-server for tests, on a free loopback port, nothing saved to disk. Tests only,
 * Node only. Each test file starts its own and stops it by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'

export const REDIS_SERVER = '/usr/bin/redis-server'

export interface RedisServer {
  /** e.g. redis://127.0.0.1:40123 */
  url: string
  port: number
  pid: number
  /** A new client connection; closed by `stop`. */
  connect(): Redis
  stop(): Promise<void>
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

export interface RedisServerOptions {
  /** A port to listen on, e.g. the one of a server stopped before (default: a free one). */
  port?: number
  /**
   * A directory to keep an append-only file in, written on every change, so a server started
   * again on it has the data the stopped one had (default: nothing kept).
   */
  dataDir?: string
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await findFreePort())
  const persistence = options.dataDir
    ? ['--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no']
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', ...persistence],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const onData = (data: Buffer) => {
      out += data.toString()
      if (out.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData)
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    void exited.then(() => reject(new Error(`redis-server exited: ${out}`)))
  })
  // Keep draining its output so a full pipe never blocks it.
  child.stdout?.resume()
  child.stderr?.resume()
  const clients: Redis[] = []
  const url = `redis://127.0.0.1:${port}`
  return {
    url,
    port,
    pid: child.pid!,
    connect() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 })
      client.on('error', () => {})
      clients.push(client)
      return client
    },
    async stop() {
      for (const client of clients) client.disconnect()
      if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM')
      await exited
    },
  }
}
