#!/usr/bin/env node
/**
 * The `kylin-export` executable (package.json `bin`): runs the command with the process's own
 * argv, environment and streams, and exits with its code. Node only.
 */
import { runExportCommand } from './export-command.ts'

process.on('SIGINT', () => {
  process.stderr.write(
    '\nkylin-export: interrupted; a partial download is kept and resumes with --query-id\n',
  )
  process.exit(130)
})

runExportCommand({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
}).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`kylin-export: unexpected failure: ${(error as Error).message}\n`)
    process.exitCode = 1
  },
)
