/**
 * Settings of `npm run demo` and `npm run demo:kylin`: flags win over environment variables.
 * Node only (demo). Everything else the gateway reads (STORE, DATA_DIR, …) passes through.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_SSB_SCALE } from './kylin/sample-ssb.ts'

export interface DemoSettings {
  /** The gateway's port (PORT / --port, default 8080). */
  port: number
  /** The emulator's port (KYLIN_DEMO_PORT / --kylin-port, default 7070). */
  kylinPort: number
  /** SSB scale factor (KYLIN_DEMO_SSB_SCALE / --ssb-scale, default 0.01 = 60,000 line orders). */
  ssbScale: number
  help: boolean
}

export const DEMO_HELP = `Options (flag, or environment variable):
  --port N          PORT                  the gateway's port (default 8080)
  --kylin-port N    KYLIN_DEMO_PORT       the Kylin emulator's port (default 7070)
  --ssb-scale X     KYLIN_DEMO_SSB_SCALE  SSB scale factor: 1 = 6,000,000 line orders (default ${DEFAULT_SSB_SCALE})
Every other gateway setting (STORE, DATA_DIR, LOG_LEVEL, …) is read from the environment.`

export function parseDemoSettings(
  argv: string[],
  env: Record<string, string | undefined>,
): DemoSettings {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'kylin-port': { type: 'string' },
      'ssb-scale': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  return {
    port: toPort('--port / PORT', values.port ?? env.PORT ?? '8080'),
    kylinPort: toPort(
      '--kylin-port / KYLIN_DEMO_PORT',
      values['kylin-port'] ?? env.KYLIN_DEMO_PORT ?? '7070',
    ),
    ssbScale: toScale(values['ssb-scale'] ?? env.KYLIN_DEMO_SSB_SCALE ?? String(DEFAULT_SSB_SCALE)),
    help: values.help ?? false,
  }
}

function toPort(name: string, text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new RangeError(`${name} must be a port number from 0 to 65535, not "${text}"`)
  }
  return port
}

function toScale(text: string): number {
  const scale = Number(text)
  // 10 is 60 million rows: more is beyond what an in-memory demo should try.
  if (!Number.isFinite(scale) || scale <= 0 || scale > 10) {
    throw new RangeError(
      `--ssb-scale / KYLIN_DEMO_SSB_SCALE must be a number above 0 and at most 10, not "${text}"`,
    )
  }
  return scale
}
