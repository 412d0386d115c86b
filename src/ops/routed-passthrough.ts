/**
 * The pass-through with several upstreams: a request goes to the Kylin of the project it names
 * (`request-project.ts`), else to the default; with one upstream, straight there. Portable.
 */
import type { Logger } from '../logger.ts'
import type { UpstreamRouter } from '../upstream/upstream-router.ts'
import { createPassthrough } from './passthrough.ts'
import { findRequestProject } from './request-project.ts'

export interface RoutedPassthroughOptions {
  upstreams: UpstreamRouter
  fetch: typeof fetch
  logger?: Logger
}

export function createRoutedPassthrough(
  options: RoutedPassthroughOptions,
): (request: Request) => Promise<Response> {
  const { upstreams } = options
  const passthroughs = new Map(
    upstreams.all.map((upstream) => [
      upstream.name,
      createPassthrough({
        upstreamUrl: upstream.url,
        fetch: options.fetch,
        logger: options.logger,
      }),
    ]),
  )
  const passthroughOf = (name: string) => passthroughs.get(name)!
  if (!upstreams.routed) return passthroughOf(upstreams.default.name)
  return async (request) => {
    // A sync query, or any request naming its project, goes to that project's Kylin.
    const { project, body } = await findRequestProject(request)
    return passthroughOf(upstreams.forProject(project).name)(request, body)
  }
}
