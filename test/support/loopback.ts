/**
 * Puts a test HTTP server on a free loopback port and closes it without waiting for idle
 * keep-alive connections. Tests only, Node only.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ListeningServer {
  /** e.g. http://127.0.0.1:40321 */
  url: string
  close(): Promise<void>
}

export async function listenOnLoopback(server: Server): Promise<ListeningServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
