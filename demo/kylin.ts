/**
 * `npm run demo:kylin`: the Kylin emulator alone (port 7070), to point a gateway or a client at.
 * Node only; runs from source (tsx).
 */
import { DEMO_HELP, parseDemoSettings } from './demo-settings.ts'
import { startKylinEmulator } from './kylin/server.ts'

let settings
try {
  settings = parseDemoSettings(process.argv.slice(2), process.env)
} catch (error) {
  process.stderr.write(`kylin emulator: ${(error as Error).message}\n`)
  process.exit(2)
}
if (settings.help) {
  process.stdout.write(`npm run demo:kylin [-- --kylin-port N --ssb-scale X]\n\n${DEMO_HELP}\n`)
  process.exit(0)
}
const kylin = await startKylinEmulator({ port: settings.kylinPort, ssbScale: settings.ssbScale })
process.stdout.write(
  `Kylin emulator on ${kylin.url} (projects learn_kylin, ssb; users ADMIN:KYLIN, MODELER:MODELER, ANALYST:ANALYST)\n` +
    `curl -s -u ADMIN:KYLIN -H 'Content-Type: application/json' -d '{"sql":"select count(*) from kylin_sales","project":"learn_kylin"}' ${kylin.url}/kylin/api/query\n`,
)
const stop = () => void kylin.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
