/**
 * The HTTP server every Node gateway listens with: @hono/node-server and the server timeouts of
 * the config. Node only. The poll bench serves its hello-world baseline through it too.
 */
import { createServer, type RequestListener } from 'node:http'
import { getRequestListener, type ServerType } from '@hono/node-server'
import type { Config } from '../../config/config.ts'
import type { EarlyListener } from './poll-listener.ts'

type ServerSettings = Pick<
  Config,
  'host' | 'port' | 'keepAliveTimeoutMs' | 'headersTimeoutMs' | 'requestTimeoutMs'
>

/**
 * Listens on the config's host and port (0: any free one); resolves once it accepts. `early`
 * answers the requests it can before the app sees them (poll-listener.ts); the rest go to `fetch`.
 */
export function startHttpServer(
  fetch: (request: Request) => Response | Promise<Response>,
  settings: ServerSettings,
  early?: EarlyListener,
): Promise<ServerType> {
  // What @hono/node-server's `serve` does, with room for `early` in front of its listener.
  const listener = getRequestListener(fetch, { hostname: settings.host })
  const server = createServer(
    {
      // Above a load balancer's idle timeout, so it never reuses a connection closed here.
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
    },
    early ? withEarlyListener(early, listener) : listener,
  )
  return new Promise<ServerType>((resolve) => {
    server.listen(settings.port, settings.host, () => resolve(server))
  })
}

/**
 * `early` in front of the library's listener. A request `early` failed on before answering goes
 * on to the app, which words the error; one it failed on halfway through its answer is cut off,
 * never left hanging.
 */
function withEarlyListener(early: EarlyListener, listener: RequestListener): RequestListener {
  return (request, response) => {
    let answered: boolean
    try {
      answered = early(request, response)
    } catch {
      answered = response.headersSent
      if (answered) response.destroy()
    }
    if (!answered) void listener(request, response)
  }
}
