/** The Node gateway as a conformance target: a real server, fs store, undici upstream. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway } from '../../src/runtime/node/gateway.ts'
import { startFakeKylin } from '../support/fake-kylin.ts'
import { startRoutingUpstreams, stopRoutingUpstreams } from './routing-upstreams.ts'
import { startConformanceReceivers, stopConformanceReceivers } from './webhook-receivers.ts'
import { startShadowUpstream, stopShadowUpstream } from './shadow-cases.ts'

/** Starts a fake Kylin and a Node gateway in front of it, with `settings` on top of the test's own. */
export async function startNodeTarget(settings: Record<string, string> = {}) {
  const webhooks = await startConformanceReceivers()
  const shadow = await startShadowUpstream()
  const routing = await startRoutingUpstreams()
  const kylin = await startFakeKylin()
  const dataDir = await mkdtemp(join(tmpdir(), 'conformance-node-'))
  const gateway = await startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: kylin.url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      LINK_SECRET: 'conformance-link-secret-0123456789abcdef',
      ...webhooks.settings,
      ...shadow.settings,
      ...routing.settings,
      ...settings,
    }),
  )
  return {
    url: gateway.url,
    kylin,
    gzips: true,
    pathScheme: 'file://' as const,
    async stop() {
      await gateway.close()
      await kylin.close()
      await rm(dataDir, { recursive: true, force: true })
      await stopConformanceReceivers()
      await stopShadowUpstream()
      await stopRoutingUpstreams()
    },
  }
}
