/**
 * Which upstream Kylin answers which project, as the settings give it (KYLIN_UPSTREAMS). Plain
 * data, imported by the settings that parse it and the router that follows it. Portable.
 */

/** One upstream Kylin: a short name for logs, metrics and records (its host), and its base URL. */
export interface UpstreamTarget {
  name: string
  url: string
}

export interface UpstreamRoutes {
  /** Every upstream, the default first; names are unique. */
  targets: UpstreamTarget[]
  /** Project, lower-cased → the name of its upstream; a project not listed goes to the default. */
  projects: Record<string, string>
}
