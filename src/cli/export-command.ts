/**
 * `kylin-export`: submit (or take `--query-id`), wait with progress, download with resume, check
 * size and SHA-256, and answer an exit code. Everything the process gives it comes in as
 * arguments, so tests run it in-process too. Node only (the command's own part).
 */
import { readFile } from 'node:fs/promises'
import { CommandError, createGatewayClient } from './gateway-client.ts'
import { EXIT, parseCommand, toHelpText, UsageError } from './options.ts'
import { readPassword } from './password.ts'
import { createProgress, formatBytes, formatCount } from './progress.ts'
import { waitForResult } from './query-wait.ts'
import { downloadResult } from './resumable-download.ts'

export interface CommandIo {
  argv: readonly string[]
  env: Record<string, string | undefined>
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  /** Told the query's id once it is known (main.ts names it when interrupted). */
  onQueryId?(id: string): void
}

export async function runExportCommand(io: CommandIo): Promise<number> {
  let options
  try {
    const command = parseCommand(io.argv)
    if (command.help) {
      io.stdout.write(toHelpText())
      return EXIT.ok
    }
    options = command.options
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`kylin-export: ${error.message}\n(kylin-export --help lists the options)\n`)
      return EXIT.usage
    }
    throw error
  }

  const progress = createProgress(io.stderr, { quiet: options.quiet })
  let submittedId: string | undefined
  try {
    const password = await readPassword(options.passwordEnv, options.user, io)
    const client = createGatewayClient({ url: options.url, user: options.user, password })
    let id = options.queryId
    if (id === undefined) {
      const sql = options.sql ?? (await readSql(options.sqlFile!, io.stdin))
      const submitted = await client.submit({ ...options.submit, sql })
      id = submitted.id
      submittedId = id
      if (submitted.status.status === 'FAILED') {
        throw new CommandError(`query ${id} failed: ${submitted.status.info}`, EXIT.failed)
      }
      progress.note(`query ${id} submitted`)
    }
    const queryId = id
    io.onQueryId?.(queryId)
    const final = await waitForResult(client, queryId, ({ rows, bytes }) =>
      progress.running(rows, bytes),
    )
    progress.finish()
    progress.note(
      `query ${queryId} SUCCESSFUL: ${formatCount(final.rows ?? 0)} rows, ${formatBytes(final.bytes ?? 0)}`,
    )
    await downloadResult(
      client,
      queryId,
      { bytes: final.bytes, sha256: final.sha256 },
      {
        output: options.output,
        retries: options.retries,
        retryDelayMs: options.retryDelayMs,
        onProgress: (received, total) => progress.downloading(received, total),
        onResume: (offset, attempt) => {
          progress.finish()
          progress.note(`download cut; resuming at byte ${offset} (attempt ${attempt + 1})`)
        },
      },
    )
    progress.finish()
    progress.note(
      `saved ${options.output} (${formatBytes(final.bytes ?? 0)}, ${final.sha256 ? `SHA-256 ${final.sha256} checked` : 'size checked; the gateway kept no SHA-256'})`,
    )
    return EXIT.ok
  } catch (error) {
    progress.finish()
    if (error instanceof CommandError || error instanceof UsageError) {
      const resumable = error instanceof CommandError && error.exitCode === EXIT.network
      const hint =
        resumable && submittedId && !error.message.includes('--query-id')
          ? `; query ${submittedId} goes on at the gateway: add --query-id ${submittedId} to pick it up`
          : ''
      io.stderr.write(`kylin-export: ${error.message}${hint}\n`)
      return error instanceof UsageError ? EXIT.usage : error.exitCode
    }
    const code = (error as NodeJS.ErrnoException).code
    if (code) {
      // A file the command could not write or read: name it, not the password or the query.
      io.stderr.write(`kylin-export: ${(error as Error).message}\n`)
      return EXIT.failed
    }
    throw error
  }
}

async function readSql(path: string, stdin: NodeJS.ReadStream): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8')
  // Decoded as one stream: a character split between two reads stays whole.
  stdin.setEncoding('utf8')
  let text = ''
  for await (const chunk of stdin) text += chunk as string
  return text
}
