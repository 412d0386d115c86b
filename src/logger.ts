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
}

/** A logger that drops everything: the default in tests. */
export function createSilentLogger(): Logger {
  const silent: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => silent,
  }
  return silent
}
