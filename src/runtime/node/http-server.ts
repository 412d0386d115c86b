/**
 * The HTTP server every Node gateway listens with: @hono/node-server and the server timeouts of
 * the config. Node only. The poll bench serves its hello-world baseline through it too.
 */
import { serve, type ServerType } from '@hono/node-server'
import type { Config } from '../../config/config.ts'

type ServerSettings = Pick<
  Config,
  'host' | 'port' | 'keepAliveTimeoutMs' | 'headersTimeoutMs' | 'requestTimeoutMs'
>

/** Listens on the config's host and port (0: any free one); resolves once it accepts. */
export function startHttpServer(
  fetch: (request: Request) => Response | Promise<Response>,
  settings: ServerSettings,
): Promise<ServerType> {
  return new Promise<ServerType>((resolve) => {
    const server = serve(
      {
        fetch,
        hostname: settings.host,
        port: settings.port,
        // Above a load balancer's idle timeout, so it never reuses a connection closed here.
        serverOptions: {
          keepAliveTimeout: settings.keepAliveTimeoutMs,
          headersTimeout: settings.headersTimeoutMs,
          requestTimeout: settings.requestTimeoutMs,
        },
      },
      () => resolve(server),
    )
  })
}
