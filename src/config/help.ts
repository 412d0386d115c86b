/**
 * The `--help` text, from the settings table. Portable.
 */
import { SETTINGS } from './settings.ts'

/** The `--help` text: every setting with its flag, default and meaning. */
export function formatHelp(command: string): string {
  const lines = [
    `Usage: ${command} [--flag value …]`,
    '',
    'Every flag can also be set by its environment variable.',
    '',
  ]
  for (const [name, s] of Object.entries(SETTINGS)) {
    const def =
      s.default === undefined
        ? '(required)'
        : s.default === ''
          ? '(default none)'
          : `(default ${s.default})`
    lines.push(`  --${s.flag.padEnd(24)} ${name.padEnd(24)} ${s.help} ${def}`)
  }
  lines.push(`  --${'help'.padEnd(24)} ${''.padEnd(24)} Print this help`)
  lines.push(`  --${'version'.padEnd(24)} ${''.padEnd(24)} Print the version`)
  return lines.join('\n')
}
