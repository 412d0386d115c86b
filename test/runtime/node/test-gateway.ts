/** A Node gateway for tests of the Node runtime: an upstream nobody answers, memory store, silent. */
import { parseConfig } from '../../../src/config/config.ts'
import { startNodeGateway, type NodeGateway } from '../../../src/runtime/node/gateway.ts'

export function startTestGateway(settings: Record<string, string> = {}): Promise<NodeGateway> {
  return startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: 'http://127.0.0.1:9',
      PORT: '0',
      HOST: '127.0.0.1',
      STORE: 'memory',
      LOG_LEVEL: 'silent',
      ...settings,
    }),
  )
}
