/**
 * The export command's flags: what a submit carries, defaults, and what is refused before any
 * call (a password in argv, credentials in the URL, a bad id or format).
 */
import { describe, expect, it } from 'vitest'
import { parseCommand, toHelpText, UsageError } from '../../src/cli/options.ts'

const base = ['--url', 'http://gw:8080/', '--user', 'ANALYST']

function parse(args: string[]) {
  const command = parseCommand(args)
  if (command.help) throw new Error('help')
  return command.options
}

describe('parseCommand', () => {
  it('turns flags into the submit body and picks the output name', () => {
    const options = parse([
      ...base,
      '--sql',
      'select 1',
      '--project',
      'learn_kylin',
      '-f',
      'Parquet',
      '--file-name',
      'sales',
      '--limit',
      '10',
      '--offset',
      '2',
      '--include-header',
      '--separator',
      ';',
      '--encode',
      'gbk',
      '--accept-partial',
      '--reuse-max-age',
      '60',
    ])
    expect(options.url).toBe('http://gw:8080')
    expect(options.submit).toEqual({
      format: 'parquet',
      project: 'learn_kylin',
      file_name: 'sales',
      limit: 10,
      offset: 2,
      include_header: true,
      separator: ';',
      encode: 'gbk',
      acceptPartial: true,
      reuse_max_age: 60,
    })
    expect(options.output).toBe('sales.parquet')
    expect(options.passwordEnv).toBe('KYLIN_PASSWORD')
    expect(options.retries).toBe(5)
  })

  it('refuses what must not or cannot work', () => {
    const refused = (args: string[], message: RegExp) =>
      expect(() => parseCommand(args)).toThrow(message)
    refused([...base, '--sql', 'x', '--password', 'p'], /never taken on the command line/)
    refused([...base, '--sql', 'x', '--password=p'], /never taken on the command line/)
    refused(['--url', 'http://u:p@gw', '--user', 'u', '--sql', 'x'], /must not carry credentials/)
    refused(['--url', 'ftp://gw', '--user', 'u', '--sql', 'x'], /http/)
    refused([...base], /--sql or --sql-file/)
    refused([...base, '--sql', 'x', '--sql-file', 'f'], /--sql or --sql-file/)
    refused([...base, '--query-id', 'nope'], /lower-case UUID/)
    refused([...base, '--sql', 'x', '--format', 'pdf'], /--format must be one of/)
    refused([...base, '--sql', 'x', '--limit=-1'], /whole number/)
    expect(() => parseCommand([...base, '--sql', 'x', '--bogus'])).toThrow(UsageError)
  })

  it('answers help, and the help names every flag it parses', () => {
    expect(parseCommand(['--help'])).toEqual({ help: true })
    const help = toHelpText()
    const booleans = /^(include-header|accept-partial|quiet|help)$/
    for (const [, name] of help.matchAll(/--([a-z-]+)/g)) {
      if (name === 'password') continue
      const args = [...base, '--sql', 'x', `--${name}`, ...(booleans.test(name!) ? [] : ['1'])]
      let message = ''
      try {
        parseCommand(args)
      } catch (error) {
        message = (error as Error).message
      }
      expect(message, name).not.toMatch(/Unknown option/)
    }
  })
})
