/**
 * The password of the export command: from an environment variable, or asked on the terminal
 * with echo off. Never from argv, never printed. Node only (the command's own part).
 */
import { UsageError } from './options.ts'

export interface PasswordSources {
  env: Record<string, string | undefined>
  stdin: NodeJS.ReadStream
  stderr: NodeJS.WriteStream
}

export async function readPassword(
  variable: string,
  user: string,
  sources: PasswordSources,
): Promise<string> {
  const fromEnv = sources.env[variable]
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  if (!sources.stdin.isTTY) {
    throw new UsageError(
      `no password: set ${variable} (or name another variable with --password-env), or run on a terminal to be asked`,
    )
  }
  return promptWithoutEcho(`Password for ${user}: `, sources.stdin, sources.stderr)
}

/** Reads one line in raw mode, so nothing typed is echoed; Ctrl-C and Ctrl-D give up. */
function promptWithoutEcho(
  question: string,
  stdin: NodeJS.ReadStream,
  stderr: NodeJS.WriteStream,
): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(question)
    let typed = ''
    const wasRaw = stdin.isRaw
    stdin.setRawMode(true)
    stdin.resume()
    const done = (error: Error | null) => {
      stdin.setRawMode(wasRaw)
      stdin.pause()
      stdin.off('data', onData)
      stderr.write('\n')
      if (error) reject(error)
      else resolve(typed)
    }
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') return done(null)
        if (char === '\u0003' || char === '\u0004') return done(new UsageError('no password given'))
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('')
        else if (char >= ' ') typed += char
      }
    }
    stdin.on('data', onData)
  })
}
