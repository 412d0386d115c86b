/**
 * `npm run demo`: the Kylin emulator and the gateway in one process, the gateway pointed at the
 * emulator, then the console's address and the curl commands to try. Ctrl-C stops both. Node
 * only; runs from source (tsx).
 */
import { parseConfig } from '../src/config/config.ts'
import { ConfigError } from '../src/errors.ts'
import { startNodeGateway, type NodeGateway } from '../src/runtime/node/gateway.ts'
import { DEMO_HELP, parseDemoSettings, type DemoSettings } from './demo-settings.ts'
import { startKylinEmulator, type KylinEmulator } from './kylin/server.ts'
import { formatTryIt } from './try-it.ts'
import { LEARN_KYLIN_ROWS } from './kylin/sample-learn-kylin.ts'
import { toSsbRowCounts } from './kylin/sample-ssb.ts'

const started = performance.now()

function fail(message: string): never {
  process.stderr.write(`kylin demo: ${message}\n`)
  process.exit(2)
}

let settings: DemoSettings
try {
  settings = parseDemoSettings(process.argv.slice(2), process.env)
} catch (error) {
  fail((error as Error).message)
}
if (settings.help) {
  process.stdout.write(`npm run demo [-- options]\n\n${DEMO_HELP}\n`)
  process.exit(0)
}

let kylin: KylinEmulator
try {
  kylin = await startKylinEmulator({ port: settings.kylinPort, ssbScale: settings.ssbScale })
} catch (error) {
  fail(`the Kylin emulator did not start: ${(error as Error).message}`)
}

let gateway: NodeGateway
try {
  const config = parseConfig({
    // Quiet by default so the commands below stay readable; LOG_LEVEL=info shows every request.
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ...process.env,
    PORT: String(settings.port),
    KYLIN_UPSTREAM_URL: kylin.url,
  })
  gateway = await startNodeGateway(config)
} catch (error) {
  await kylin.close()
  fail(
    error instanceof ConfigError
      ? error.message
      : `the gateway did not start: ${(error as Error).message}`,
  )
}

const lineorders = toSsbRowCounts(settings.ssbScale).LINEORDER
process.stdout.write(
  [
    `Kylin emulator  ${kylin.url}  (DuckDB; learn_kylin: ${LEARN_KYLIN_ROWS.KYLIN_SALES.toLocaleString('en')} sales; ssb: ${lineorders.toLocaleString('en')} line orders, scale ${settings.ssbScale})`,
    `Gateway         ${gateway.url}  → ${kylin.url}`,
    `Console         ${gateway.url}/console  (open it in a browser, sign in as ANALYST:ANALYST)`,
    `Users           ADMIN:KYLIN (admin), MODELER:MODELER, ANALYST:ANALYST`,
    `Ready in ${((performance.now() - started) / 1000).toFixed(1)} s. Try it (Ctrl-C stops both):`,
    '',
    formatTryIt(gateway.url),
    '',
  ].join('\n') + '\n',
)

let stopping = false
async function stop(signal: string) {
  if (stopping) {
    process.stderr.write(`kylin demo: ${signal} again, exiting now\n`)
    process.exit(1)
  }
  stopping = true
  process.stderr.write(`kylin demo: ${signal}, stopping the gateway and the emulator\n`)
  await gateway.close(1_000)
  await kylin.close()
  process.stderr.write('kylin demo: stopped\n')
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
