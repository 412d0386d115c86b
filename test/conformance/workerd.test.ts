/**
 * The conformance suite inside workerd: the Worker bundle that `wrangler deploy` would upload,
 * run by Miniflare with local R2 and Durable Objects, against the loopback fake Kylin.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { startFakeKylin } from '../support/fake-kylin.ts'
import { buildWorker } from '../support/worker-build.ts'
import { describeConformance } from './suite.ts'

describeConformance('workerd', async () => {
  const kylin = await startFakeKylin()
  const outdir = await mkdtemp(join(tmpdir(), 'conformance-worker-'))
  const scriptPath = await buildWorker(outdir)
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    // Module names are taken relative to this root; the default (cwd) would put them outside it.
    modulesRoot: outdir,
    compatibilityDate: '2026-04-20',
    cf: false,
    host: '127.0.0.1',
    port: 0,
    r2Buckets: ['RESULTS'],
    durableObjects: { QUERIES: { className: 'QueryObject', useSQLite: true } },
    bindings: {
      KYLIN_UPSTREAM_URL: kylin.url,
      RESULTS_BUCKET_NAME: 'kylin-async-results',
      LOG_LEVEL: 'warn',
    },
  })
  const url = (await mf.ready).toString().replace(/\/$/, '')
  return {
    url,
    kylin,
    gzips: false,
    pathScheme: 'r2://kylin-async-results/',
    async stop() {
      await mf.dispose()
      await kylin.close()
      await rm(outdir, { recursive: true, force: true })
    },
  }
})
