/**
 * The Node entry: `npm start` / `tsx src/runtime/node/main.ts [--flag value …]`. Node only.
 * Flags override environment variables; a bad setting stops start-up with one clear line.
 */
import { parseArgs } from 'node:util'
import { ConfigError } from '../../errors.ts'
import { parseConfig } from '../../config/config.ts'
import { formatHelp } from '../../config/help.ts'
import { SETTINGS } from '../../config/settings.ts'
import { GATEWAY_VERSION, startNodeGateway } from './gateway.ts'

function readSettings(argv: string[]): Record<string, string | undefined> | 'help' | 'version' {
  const flags = Object.fromEntries(
    Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' as const }]),
  )
  const { values } = parseArgs({
    args: argv,
    options: {
      ...flags,
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    strict: true,
  })
  if (values.help) return 'help'
  if (values.version) return 'version'
  const vars: Record<string, string | undefined> = { ...process.env }
  for (const [name, setting] of Object.entries(SETTINGS)) {
    const value = (values as Record<string, string | boolean | undefined>)[setting.flag]
    if (typeof value === 'string') vars[name] = value
  }
  return vars
}

async function main() {
  let settings: ReturnType<typeof readSettings>
  try {
    settings = readSettings(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`kylin-async-gateway: ${(error as Error).message}\n`)
    process.stderr.write('Run with --help to list the settings.\n')
    process.exit(2)
  }
  if (settings === 'help') {
    process.stdout.write(formatHelp('kylin-async-gateway') + '\n')
    return
  }
  if (settings === 'version') {
    process.stdout.write(`kylin-async-gateway ${GATEWAY_VERSION}\n`)
    return
  }
  let config
  try {
    config = parseConfig(settings)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`kylin-async-gateway: ${error.message}\n`)
    process.exit(2)
  }
  let gateway
  try {
    gateway = await startNodeGateway(config)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`kylin-async-gateway: ${error.message}\n`)
    process.exit(2)
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    gateway.logger.info({ signal }, 'shutting down')
    void gateway.close(config.shutdownGraceMs).then(() => process.exit(0))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

await main()
