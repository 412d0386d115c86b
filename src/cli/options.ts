/**
 * The export command's flags: one table read by `node:util`'s parseArgs and printed by `--help`,
 * turned into checked `ExportOptions`. Node only (the command's own part).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

const DEFAULT_PASSWORD_ENV = 'KYLIN_PASSWORD'
const DEFAULT_RETRIES = 5
const DEFAULT_RETRY_DELAY_MS = 1000

/** Exit codes, as `--help` lists them. */
export const EXIT = {
  ok: 0,
  /** The query failed, or the gateway refused a call (its message is printed). */
  failed: 1,
  /** Bad flags or a missing password. */
  usage: 2,
  /** The gateway could not be reached, or a download stayed cut after every retry. */
  network: 3,
  /** The file saved is not the one the gateway stored (size or SHA-256 differ). */
  integrity: 4,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const

export class UsageError extends Error {}

interface FlagSpec {
  name: string
  short?: string
  type: 'string' | 'boolean'
  value?: string
  help: string
}

const FLAGS: readonly FlagSpec[] = [
  {
    name: 'url',
    type: 'string',
    value: 'URL',
    help: 'the gateway, e.g. http://localhost:8080 (required)',
  },
  { name: 'user', short: 'u', type: 'string', value: 'NAME', help: 'Kylin user name (required)' },
  {
    name: 'password-env',
    type: 'string',
    value: 'VAR',
    help: `environment variable holding the password (default ${DEFAULT_PASSWORD_ENV}); unset on a terminal: asked without echo`,
  },
  {
    name: 'project',
    type: 'string',
    value: 'NAME',
    help: 'Kylin project (the gateway default: DEFAULT)',
  },
  { name: 'sql', type: 'string', value: 'SQL', help: 'the query to run' },
  {
    name: 'sql-file',
    type: 'string',
    value: 'PATH',
    help: 'read the query from a file (- for stdin)',
  },
  {
    name: 'format',
    short: 'f',
    type: 'string',
    value: 'F',
    help: 'csv (default), json, ndjson, xlsx, parquet or arrow',
  },
  {
    name: 'encode',
    type: 'string',
    value: 'E',
    help: 'utf-8 (default) or gbk (csv, json, ndjson)',
  },
  { name: 'separator', type: 'string', value: 'S', help: 'CSV cell separator (default ,)' },
  { name: 'include-header', type: 'boolean', help: 'write a header row of column labels' },
  {
    name: 'file-name',
    type: 'string',
    value: 'NAME',
    help: 'download name the gateway keeps (default result)',
  },
  { name: 'limit', type: 'string', value: 'N', help: 'passed to Kylin (0: no limit)' },
  { name: 'offset', type: 'string', value: 'N', help: 'passed to Kylin' },
  { name: 'accept-partial', type: 'boolean', help: 'passed to Kylin' },
  {
    name: 'reuse-max-age',
    type: 'string',
    value: 'SECONDS',
    help: 'take your own earlier identical result no older than this',
  },
  {
    name: 'query-id',
    type: 'string',
    value: 'ID',
    help: 'download a query already submitted instead of submitting (resumes its partial file)',
  },
  {
    name: 'output',
    short: 'o',
    type: 'string',
    value: 'PATH',
    help: 'where to save (default <file-name>.<format>); written to PATH.part until checked',
  },
  {
    name: 'retries',
    type: 'string',
    value: 'N',
    help: `times a cut download is resumed with Range (default ${DEFAULT_RETRIES})`,
  },
  {
    name: 'retry-delay',
    type: 'string',
    value: 'MS',
    help: `pause before the first resume, growing with each attempt (default ${DEFAULT_RETRY_DELAY_MS})`,
  },
  { name: 'quiet', short: 'q', type: 'boolean', help: 'print nothing but errors' },
  { name: 'help', short: 'h', type: 'boolean', help: 'show this help' },
]

const FORMATS = ['csv', 'json', 'ndjson', 'xlsx', 'parquet', 'arrow'] as const
export type ExportFormat = (typeof FORMATS)[number]

export interface ExportOptions {
  url: string
  user: string
  passwordEnv: string
  /** The submit body's fields, only those given. */
  submit: Record<string, string | number | boolean>
  /** `undefined` with `queryId`. */
  sql: string | undefined
  sqlFile: string | undefined
  queryId: string | undefined
  format: ExportFormat
  output: string
  retries: number
  retryDelayMs: number
  quiet: boolean
}

export type ParsedCommand = { help: true } | { help: false; options: ExportOptions }

export function toHelpText(): string {
  const lines = FLAGS.map((flag) => {
    const name = `${flag.short ? `-${flag.short}, ` : '    '}--${flag.name}${flag.value ? ` ${flag.value}` : ''}`
    return `  ${name.padEnd(28)} ${flag.help}`
  })
  return [
    'kylin-export: run a query through kylin-async-gateway and save its result to a file.',
    '',
    'Usage: kylin-export --url URL --user NAME --project P --sql SQL [--format F] [-o PATH]',
    '       kylin-export --url URL --user NAME --query-id ID [-o PATH]',
    '',
    'Options:',
    ...lines,
    '',
    `The password is read from $${DEFAULT_PASSWORD_ENV} (or --password-env VAR), or asked on the`,
    'terminal without echo; it is never taken from the command line nor printed.',
    '',
    'Progress (rows and bytes while the query runs, bytes of the total while it downloads) is a',
    'bar on a terminal and plain lines otherwise, on stderr. The file is written to PATH.part and',
    'checked against the size and SHA-256 the gateway reports before it is renamed to PATH. A cut',
    'download resumes with Range and If-Range; if it stays cut, PATH.part is kept and the same',
    'command with --query-id ID resumes it. A file that fails the check is removed.',
    '',
    'Exit codes:',
    '  0    saved and checked',
    '  1    the query failed or the gateway refused a call (its message is printed)',
    '  2    bad options or no password',
    '  3    the gateway could not be reached, or the download stayed cut',
    '  4    the saved file differs from the stored result (size or SHA-256)',
    '  130  interrupted',
    '',
  ].join('\n')
}

/** Refuses a password on the command line before anything else reads argv. */
function refusePasswordFlags(argv: readonly string[]): void {
  for (const arg of argv) {
    if (arg === '--') break
    if (/^--(password|pass|pwd)(=|$)/i.test(arg) || /^-P/.test(arg)) {
      throw new UsageError(
        `a password is never taken on the command line (it would stay in the shell history and the process list); set ${DEFAULT_PASSWORD_ENV}, or name another variable with --password-env`,
      )
    }
  }
}

function toCount(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value))
    throw new UsageError(`--${name} must be a whole number, not ${JSON.stringify(value)}`)
  return Number(value)
}

export function parseCommand(argv: readonly string[]): ParsedCommand {
  refusePasswordFlags(argv)
  let values: Record<string, string | boolean | undefined>
  try {
    const options = Object.fromEntries(
      FLAGS.map((flag) => [
        flag.name,
        flag.short ? { type: flag.type, short: flag.short } : { type: flag.type },
      ]),
    ) as NonNullable<ParseArgsConfig['options']>
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.help) return { help: true }
  const str = (name: string) => values[name] as string | undefined

  const url = str('url')
  if (!url) throw new UsageError('--url is required (the gateway, e.g. http://localhost:8080)')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError(`--url is not a URL: ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError('--url must be an http:// or https:// URL')
  }
  if (parsed.username || parsed.password) {
    throw new UsageError(
      `--url must not carry credentials: give the user with --user and the password in ${DEFAULT_PASSWORD_ENV}`,
    )
  }
  const user = str('user')
  if (!user) throw new UsageError('--user is required')

  const queryId = str('query-id')
  const sql = str('sql')
  const sqlFile = str('sql-file')
  if (queryId !== undefined) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(queryId)) {
      throw new UsageError(
        '--query-id must be a query id as the gateway gives it (a lower-case UUID)',
      )
    }
    if (sql !== undefined || sqlFile !== undefined)
      throw new UsageError(
        '--query-id downloads a query already submitted: leave out --sql and --sql-file',
      )
  } else if ((sql === undefined) === (sqlFile === undefined)) {
    throw new UsageError('give the query with --sql or --sql-file (one of them)')
  }

  const formatName = (str('format') ?? 'csv').toLowerCase()
  if (!(FORMATS as readonly string[]).includes(formatName)) {
    throw new UsageError(
      `--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(formatName)}`,
    )
  }
  const format = formatName as ExportFormat

  const submit: Record<string, string | number | boolean> = { format }
  const project = str('project')
  if (project !== undefined) submit.project = project
  const encode = str('encode')
  if (encode !== undefined) submit.encode = encode
  const separator = str('separator')
  if (separator !== undefined) submit.separator = separator
  if (values['include-header']) submit.include_header = true
  if (values['accept-partial']) submit.acceptPartial = true
  const fileName = str('file-name')
  if (fileName !== undefined) submit.file_name = fileName
  for (const [flag, field] of [
    ['limit', 'limit'],
    ['offset', 'offset'],
    ['reuse-max-age', 'reuse_max_age'],
  ] as const) {
    const count = toCount(flag, str(flag))
    if (count !== undefined) submit[field] = count
  }
  const retries = toCount('retries', str('retries')) ?? DEFAULT_RETRIES

  return {
    help: false,
    options: {
      url: url.replace(/\/+$/, ''),
      user,
      passwordEnv: str('password-env') ?? DEFAULT_PASSWORD_ENV,
      submit,
      sql,
      sqlFile,
      queryId,
      format,
      output: str('output') ?? `${fileName ?? 'result'}.${format}`,
      retries,
      retryDelayMs: toCount('retry-delay', str('retry-delay')) ?? DEFAULT_RETRY_DELAY_MS,
      quiet: values.quiet === true,
    },
  }
}
