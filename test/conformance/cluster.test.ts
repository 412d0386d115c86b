/**
 * The conformance suite against two Node gateways as one cluster: REGISTRY=redis (a real
 * redis-server), STORE=s3 (s3rver behind a loopback front), and a round-robin balancer in front,
 * so consecutive calls of one case (submit, status, download, delete) land on different instances.
 */
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway } from '../../src/runtime/node/gateway.ts'
import { startFakeKylin } from '../support/fake-kylin.ts'
import { startRedisServer } from '../support/redis-server.ts'
import { startRoundRobin } from '../support/round-robin.ts'
import { startS3Proxy } from '../support/s3-proxy.ts'
import { S3RVER_CREDENTIALS, startS3TestServer } from '../support/s3-server.ts'
import { describeConformance } from './suite.ts'
import { startRoutingUpstreams, stopRoutingUpstreams } from './routing-upstreams.ts'
import { startConformanceReceivers, stopConformanceReceivers } from './webhook-receivers.ts'
import { startShadowUpstream, stopShadowUpstream } from './shadow-cases.ts'

describeConformance('node cluster (redis + s3)', async () => {
  const webhooks = await startConformanceReceivers()
  const shadow = await startShadowUpstream()
  const routing = await startRoutingUpstreams()
  const [kylin, redis, s3] = await Promise.all([
    startFakeKylin(),
    startRedisServer(),
    startS3TestServer(),
  ])
  const s3Front = await startS3Proxy(s3)
  // The balancer first, so that the gateways hand out links through it (PUBLIC_URL); it reads
  // its backends per request, so they join once started.
  const backends: string[] = []
  const balancer = await startRoundRobin(backends)
  const config = parseConfig({
    KYLIN_UPSTREAM_URL: kylin.url,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    REGISTRY: 'redis',
    REDIS_URL: redis.url,
    STORE: 's3',
    S3_ENDPOINT: s3Front.endpoint,
    S3_BUCKET: s3.bucket,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    LINK_SECRET: 'conformance-link-secret-0123456789abcdef',
    PUBLIC_URL: balancer.url,
    ...webhooks.settings,
    ...shadow.settings,
    ...routing.settings,
  })
  const gateways = await Promise.all([startNodeGateway(config), startNodeGateway(config)])
  backends.push(...gateways.map((g) => g.url))
  return {
    url: balancer.url,
    kylin,
    gzips: true,
    pathScheme: 's3://',
    async stop() {
      await balancer.close()
      for (const gateway of gateways) await gateway.close()
      await s3Front.close()
      await s3.close()
      await redis.stop()
      await kylin.close()
      await stopConformanceReceivers()
      await stopShadowUpstream()
      await stopRoutingUpstreams()
    },
  }
})
