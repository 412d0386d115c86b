/**
 * The further upstreams of a conformance run, one set per test file: a Kylin 5-shaped fake that
 * knows one user the default fake does not, and a URL where nothing listens. Started before the
 * target (whose KYLIN_UPSTREAMS routes a project to each), read by `routing-cases.ts`.
 */
import { createServer } from 'node:net'
import { basicAuth, startFakeKylin, type FakeKylin } from '../support/fake-kylin.ts'

/** The project routed to the Kylin 5, and the one routed to nothing. */
export const KYLIN5_PROJECT = 'routed_kylin5'
export const DOWN_PROJECT = 'routed_down'
/** Known on the Kylin 5 only. */
export const KYLIN5_ONLY_USER = { username: 'K5ONLY', password: 'K5ONLY-PASS' }
export const KYLIN5_ONLY_AUTH = basicAuth(KYLIN5_ONLY_USER.username, KYLIN5_ONLY_USER.password)

export interface RoutingUpstreams {
  kylin5: FakeKylin
  /** A loopback URL that refuses connections. */
  downUrl: string
  /** KYLIN_UPSTREAMS; the target's KYLIN_UPSTREAM_URL stays the default. */
  settings: Record<string, string>
}

let started: Promise<RoutingUpstreams> | undefined

/** The upstreams of this test file, started on first use; `stop` closes them. */
export function startRoutingUpstreams(): Promise<RoutingUpstreams> {
  started ??= (async () => {
    const kylin5 = await startFakeKylin({
      authShape: 'kylin5',
      queryShape: 'kylin5',
      extraUsers: {
        [KYLIN5_ONLY_USER.username]: {
          password: KYLIN5_ONLY_USER.password,
          authorities: ['ROLE_ANALYST'],
        },
      },
    })
    const downUrl = `http://127.0.0.1:${await closedPort()}`
    return {
      kylin5,
      downUrl,
      settings: {
        KYLIN_UPSTREAMS: `${KYLIN5_PROJECT}=${kylin5.url},${DOWN_PROJECT}=${downUrl}`,
      },
    }
  })()
  return started
}

export async function stopRoutingUpstreams(): Promise<void> {
  if (!started) return
  const { kylin5 } = await started
  started = undefined
  await kylin5.close()
}

/** A port that was free a moment ago and has nothing listening now. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
