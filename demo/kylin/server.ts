/**
 * Starts the Kylin emulator on a port: database loaded, then the HTTP server. Node only.
 */
import { serve, type ServerType } from '@hono/node-server'
import { createKylinApp } from './app.ts'
import { openKylinDatabase, type KylinDatabase } from './database.ts'

export interface KylinEmulatorOptions {
  /** 7070 like Kylin; 0 picks a free port. */
  port?: number
  host?: string
  ssbScale?: number
}

export interface KylinEmulator {
  /** e.g. http://127.0.0.1:7070 */
  url: string
  db: KylinDatabase
  close(): Promise<void>
}

export async function startKylinEmulator(
  options: KylinEmulatorOptions = {},
): Promise<KylinEmulator> {
  const db = await openKylinDatabase({ ssbScale: options.ssbScale })
  const host = options.host ?? '127.0.0.1'
  const app = createKylinApp(db)
  let server: ServerType
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 7070 }, () =>
        resolve(s),
      )
      s.once('error', reject)
    })
  } catch (error) {
    db.close()
    throw error
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    db,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      if ('closeAllConnections' in server) server.closeAllConnections()
      await closed
      db.close()
    },
  }
}
