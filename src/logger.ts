/**
 * The logging contract the portable core sees: a pino-compatible subset.
 * Node passes pino; Workers pass a console-backed logger. Never log credentials or rows.
 */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
  /** Whether a level would be written, so hot paths can skip building a line at all. */
  isLevelEnabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean
}

/** A logger that drops everything: the default in tests. */
export function createSilentLogger(): Logger {
  const silent: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => silent,
    isLevelEnabled: () => false,
  }
  return silent
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

/**
 * JSON lines on `console`, for runtimes without pino (Workers, where console is the log sink).
 * Same redaction rule as everywhere: callers never pass credentials or rows.
 */
export function createConsoleLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(level as (typeof LEVELS)[number]))
  const write = (name: (typeof LEVELS)[number]) => (obj: object, msg?: string) => {
    if (LEVELS.indexOf(name) < threshold) return
    const line = JSON.stringify({
      level: name,
      time: Date.now(),
      ...bindings,
      ...toLoggable(obj),
      msg,
    })
    if (name === 'error' || name === 'fatal') console.error(line)
    else console.log(line)
  }
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => createConsoleLogger(level, { ...bindings, ...more }),
    isLevelEnabled: (name) => LEVELS.indexOf(name) >= threshold,
  }
}

function toLoggable(obj: object): object {
  const { err, ...rest } = obj as { err?: unknown }
  if (err === undefined) return rest
  return {
    ...rest,
    err: err instanceof Error ? { name: err.name, message: err.message } : String(err),
  }
}
