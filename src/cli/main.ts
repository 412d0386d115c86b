#!/usr/bin/env node
/**
 * The `kylin-export` executable (package.json `bin`): runs the command with the process's own
 * argv, environment and streams, and exits with its code. Node only.
 */
import { runExportCommand } from './export-command.ts'
import { EXIT } from './options.ts'

let queryId: string | undefined

process.on('SIGINT', () => {
  // The query goes on at the gateway, and a partial download is kept: say how to pick both up.
  const resume = queryId ? `; --query-id ${queryId} picks the query up again` : ''
  process.stderr.write(`\nkylin-export: interrupted${resume}\n`)
  process.exit(EXIT.interrupted)
})

runExportCommand({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  onQueryId: (id) => {
    queryId = id
  },
}).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`kylin-export: unexpected failure: ${(error as Error).message}\n`)
    process.exitCode = 1
  },
)
