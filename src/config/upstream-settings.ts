/**
 * Settings: which Kylin answers which project. `KYLIN_UPSTREAM_URL` alone is one upstream;
 * `KYLIN_UPSTREAMS` maps projects to several. Portable: part of the settings table.
 */
import { z } from 'zod'
import { ConfigError } from '../errors.ts'
import { toRedactedUrl } from '../redact-url.ts'
import { upstreamUrl } from './values.ts'
import type { UpstreamRoutes, UpstreamTarget } from '../domain/upstream-routes.ts'

export type { UpstreamRoutes, UpstreamTarget }

/** More would make the metrics' `upstream` label and /readyz unbounded in practice. */
export const MAX_UPSTREAMS = 16
const MAX_MAPPED_PROJECTS = 1000
/** Kylin's own rule for project names, plus `*` for the default. */
const PROJECT_NAME = /^[A-Za-z0-9_]{1,100}$/

/** An upstream URL, or `''` for unset (the map may give the default instead). */
function optionalUpstreamUrl() {
  return z.string().transform((value, ctx) => {
    if (value === '') return ''
    const checked = upstreamUrl.safeParse(value)
    if (checked.success) return checked.data
    for (const issue of checked.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message })
    return z.NEVER
  })
}

export const UPSTREAM_SETTINGS = {
  KYLIN_UPSTREAM_URL: {
    flag: 'upstream',
    schema: optionalUpstreamUrl(),
    default: '',
    help: 'Base URL of the upstream Kylin, e.g. http://kylin:7070 (required unless KYLIN_UPSTREAMS names a * default; with KYLIN_UPSTREAMS it is the default for unmapped projects)',
  },
  KYLIN_UPSTREAMS: {
    flag: 'upstreams',
    schema: z.string(),
    default: '',
    help: 'Several Kylins routed by project: project=URL pairs, comma-separated, * the default, e.g. learn_kylin=http://kylin5:7070,*=http://kylin4:7070 (project names match case-insensitively)',
  },
} as const

/**
 * The routes of `KYLIN_UPSTREAMS` and `KYLIN_UPSTREAM_URL`. The rule when both are set: the URL
 * is the default, and the map may not name a `*` of its own. No default at all stops start-up.
 */
export function toUpstreamRoutes(c: { KYLIN_UPSTREAM_URL: string; KYLIN_UPSTREAMS: string }) {
  const single = c.KYLIN_UPSTREAM_URL
  const map = c.KYLIN_UPSTREAMS.trim()
  if (map === '') {
    if (single === '') {
      throw new ConfigError(
        'KYLIN_UPSTREAM_URL (--upstream) is required (or KYLIN_UPSTREAMS with a *=URL default)',
      )
    }
    return { defaultUrl: single, routes: toRoutes(single, []) }
  }
  const pairs = parseUpstreamMap(map)
  const star = pairs.find(([project]) => project === '*')
  if (star && single !== '') {
    throw bad(
      'names a * default and KYLIN_UPSTREAM_URL (--upstream) is set too: keep one of the two defaults',
    )
  }
  const defaultUrl = star?.[1] ?? single
  if (defaultUrl === '') {
    throw bad(
      'has no default: add *=URL, or set KYLIN_UPSTREAM_URL (--upstream), for the projects it does not name',
    )
  }
  return {
    defaultUrl,
    routes: toRoutes(
      defaultUrl,
      pairs.filter(([project]) => project !== '*'),
    ),
  }
}

/** `a=http://x,b=http://y` → pairs, each URL checked (no user:password@) and without its trailing slash. */
export function parseUpstreamMap(text: string): [string, string][] {
  const pairs: [string, string][] = []
  const seen = new Set<string>()
  for (const entry of text.split(',')) {
    const trimmed = entry.trim()
    if (trimmed === '') continue
    const equals = trimmed.indexOf('=')
    if (equals <= 0) throw bad(`has an entry without project=URL: ${quote(trimmed)}`)
    const project = trimmed.slice(0, equals).trim()
    const url = trimmed.slice(equals + 1).trim()
    if (project !== '*' && !PROJECT_NAME.test(project)) {
      throw bad(`has a bad project name ${quote(project)}: letters, digits and _ only, or *`)
    }
    const key = project.toLowerCase()
    if (seen.has(key)) throw bad(`names the project ${quote(project)} twice`)
    seen.add(key)
    const checked = upstreamUrl.safeParse(url)
    if (!checked.success) {
      const why = checked.error.issues[0]?.message ?? 'not a URL'
      throw bad(`has a bad URL for ${quote(project)}, ${quote(url)}: ${why}`)
    }
    pairs.push([project, checked.data])
  }
  if (pairs.length > MAX_MAPPED_PROJECTS) {
    throw bad(`names ${pairs.length} projects; at most ${MAX_MAPPED_PROJECTS}`)
  }
  return pairs
}

function toRoutes(defaultUrl: string, pairs: [string, string][]): UpstreamRoutes {
  const targets: UpstreamTarget[] = []
  const nameOf = new Map<string, string>()
  const add = (url: string) => {
    const known = nameOf.get(url)
    if (known) return known
    const name = toUpstreamName(url, new Set(targets.map((t) => t.name)))
    targets.push({ name, url })
    nameOf.set(url, name)
    return name
  }
  add(defaultUrl)
  const projects: Record<string, string> = {}
  for (const [project, url] of pairs) projects[project.toLowerCase()] = add(url)
  if (targets.length > MAX_UPSTREAMS) {
    throw bad(`names ${targets.length} upstreams; at most ${MAX_UPSTREAMS}`)
  }
  return { targets, projects }
}

/** Its host (`kylin5:7070`), with the path when two upstreams share a host; never user or password. */
function toUpstreamName(url: string, taken: ReadonlySet<string>): string {
  const parsed = new URL(url)
  const host = parsed.host
  if (!taken.has(host)) return host
  const withPath = `${host}${parsed.pathname.replace(/\/+$/, '')}`
  if (!taken.has(withPath)) return withPath
  for (let i = 2; ; i++) if (!taken.has(`${withPath}#${i}`)) return `${withPath}#${i}`
}

function quote(text: string): string {
  return JSON.stringify(toRedactedUrl(text))
}

function bad(what: string): ConfigError {
  return new ConfigError(`KYLIN_UPSTREAMS (--upstreams) ${what}`)
}
