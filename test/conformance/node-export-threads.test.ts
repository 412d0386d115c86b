/**
 * The conformance suite against the Node gateway with EXPORT_THREADS: every export, of queries
 * and of download-time conversions, runs on export threads, and clients see the same API.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/config.ts'
import { startNodeGateway } from '../../src/runtime/node/gateway.ts'
import { startFakeKylin } from '../support/fake-kylin.ts'
import { describeConformance } from './suite.ts'

describeConformance('node with export threads', async () => {
  const kylin = await startFakeKylin()
  const dataDir = await mkdtemp(join(tmpdir(), 'conformance-threads-'))
  const gateway = await startNodeGateway(
    parseConfig({
      KYLIN_UPSTREAM_URL: kylin.url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      EXPORT_THREADS: '2',
    }),
  )
  return {
    url: gateway.url,
    kylin,
    gzips: true,
    pathScheme: 'file://',
    async stop() {
      await gateway.close()
      await kylin.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
})
