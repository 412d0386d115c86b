/**
 * The URL a fetch call names, whichever form its first argument takes (a string, a URL or a
 * Request), as the runtime's own fetch implementations read it. Node only.
 */
export function requestUrlOf(input: RequestInfo | URL): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
}
