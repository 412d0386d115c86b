/**
 * The conformance suite inside workerd: the Worker bundle that `wrangler deploy` would upload,
 * run by Miniflare with local R2 and Durable Objects, against the loopback fake Kylin.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { startFakeKylin } from '../support/fake-kylin.ts'
import { buildWorker, toWorkerOptions } from '../support/worker-build.ts'
import { describeConformance } from './suite.ts'
import { startRoutingUpstreams, stopRoutingUpstreams } from './routing-upstreams.ts'
import { startConformanceReceivers, stopConformanceReceivers } from './webhook-receivers.ts'
import { startShadowUpstream, stopShadowUpstream } from './shadow-cases.ts'

describeConformance('workerd', async () => {
  const webhooks = await startConformanceReceivers()
  const shadow = await startShadowUpstream()
  const routing = await startRoutingUpstreams()
  const kylin = await startFakeKylin()
  const outdir = await mkdtemp(join(tmpdir(), 'conformance-worker-'))
  const scriptPath = await buildWorker(outdir)
  const mf = new Miniflare(
    toWorkerOptions(scriptPath, {
      KYLIN_UPSTREAM_URL: kylin.url,
      RESULTS_BUCKET_NAME: 'kylin-async-results',
      LOG_LEVEL: 'warn',
      LINK_SECRET: 'conformance-link-secret-0123456789abcdef',
      ...webhooks.settings,
      ...shadow.settings,
      ...routing.settings,
    }),
  )
  const url = (await mf.ready).toString().replace(/\/$/, '')
  return {
    url,
    kylin,
    gzips: false,
    followsLive: false,
    pathScheme: 'r2://kylin-async-results/',
    async stop() {
      await mf.dispose()
      await kylin.close()
      await rm(outdir, { recursive: true, force: true })
      await stopConformanceReceivers()
      await stopShadowUpstream()
      await stopRoutingUpstreams()
    },
  }
})
