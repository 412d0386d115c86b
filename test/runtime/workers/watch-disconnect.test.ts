/**
 * A client that goes away frees its watcher's place in workerd too (the Worker bundle in
 * Miniflare): its event stream at once, through its request's signal (`enable_request_signal`).
 * A wait that has not answered yet is not told the client left: it ends with its own time, and
 * its place with it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { startFakeKylin } from '../../support/fake-kylin.ts'
import { describeWatchDisconnect } from '../../support/watch-disconnect-cases.ts'
import { buildWorker, toWorkerOptions } from '../../support/worker-build.ts'

describeWatchDisconnect(
  'workerd',
  async () => {
    const kylin = await startFakeKylin()
    const outdir = await mkdtemp(join(tmpdir(), 'watch-disconnect-worker-'))
    const scriptPath = await buildWorker(outdir)
    const mf = new Miniflare(
      toWorkerOptions(scriptPath, {
        KYLIN_UPSTREAM_URL: kylin.url,
        RESULTS_BUCKET_NAME: 'kylin-async-results',
        LOG_LEVEL: 'warn',
      }),
    )
    const url = (await mf.ready).toString().replace(/\/$/, '')
    return {
      url,
      kylin,
      async stop() {
        await mf.dispose()
        await kylin.close()
        await rm(outdir, { recursive: true, force: true })
      },
    }
  },
  { seconds: 3, freedWithinMs: 15_000 },
)
