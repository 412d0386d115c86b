/**
 * The conformance suite inside workerd with STORE=s3: the Worker bundle run by Miniflare, its
 * results in an S3-compatible bucket (s3rver on loopback) signed by aws4fetch with Web Crypto.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { startFakeKylin } from '../support/fake-kylin.ts'
import { S3RVER_CREDENTIALS, startS3TestServer } from '../support/s3-server.ts'
import { buildWorker, toWorkerOptions } from '../support/worker-build.ts'
import { describeConformance } from './suite.ts'
import { startRoutingUpstreams, stopRoutingUpstreams } from './routing-upstreams.ts'
import { startConformanceReceivers, stopConformanceReceivers } from './webhook-receivers.ts'
import { startShadowUpstream, stopShadowUpstream } from './shadow-cases.ts'

describeConformance('workerd with STORE=s3', async () => {
  const webhooks = await startConformanceReceivers()
  const shadow = await startShadowUpstream()
  const routing = await startRoutingUpstreams()
  const [kylin, s3] = await Promise.all([startFakeKylin(), startS3TestServer()])
  const outdir = await mkdtemp(join(tmpdir(), 'conformance-worker-s3-'))
  const scriptPath = await buildWorker(outdir)
  const mf = new Miniflare(
    toWorkerOptions(scriptPath, {
      KYLIN_UPSTREAM_URL: kylin.url,
      STORE: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_PREFIX: 'workers/',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
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
    pathScheme: `s3://${s3.bucket}/workers/`,
    async stop() {
      await mf.dispose()
      await Promise.all([kylin.close(), s3.close()])
      await rm(outdir, { recursive: true, force: true })
      await stopConformanceReceivers()
      await stopShadowUpstream()
      await stopRoutingUpstreams()
    },
  }
})
