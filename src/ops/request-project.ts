/**
 * The project a pass-through request names, for routing it to that project's Kylin: `?project=`
 * or `?projectName=`, else a top-level `project` / `projectName` string in a JSON body, looked
 * for in its first bytes only. The body goes on unchanged, streamed. Portable.
 */

/** How much of a body is read to find its project; past it the request goes to the default. */
export const PROJECT_SCAN_BYTES = 64 * 1024

const PROJECT_PARAMETERS = ['project', 'projectName'] as const
const PROJECT_KEYS: ReadonlySet<string> = new Set(PROJECT_PARAMETERS)

export interface RequestProject {
  /** The project named, or `undefined`. */
  project?: string
  /**
   * The body to send on: the bytes read to look for the project, then the rest, unchanged.
   * `undefined` when the body was not touched (send `request.body`).
   */
  body?: ReadableStream<Uint8Array> | null
}

export async function findRequestProject(
  request: Request,
  maxScanBytes = PROJECT_SCAN_BYTES,
): Promise<RequestProject> {
  const params = new URL(request.url).searchParams
  for (const name of PROJECT_PARAMETERS) {
    const value = params.get(name)
    if (value) return { project: value }
  }
  if (request.body === null || request.method === 'GET' || request.method === 'HEAD') return {}
  // Clients send JSON under any type (text/plain from fetch, a form type from `curl -d`); only an
  // upload is surely not JSON. What is looked into must start as a JSON object anyway.
  const type = request.headers.get('content-type')?.toLowerCase() ?? ''
  if (type.startsWith('multipart/') || type.startsWith('application/octet-stream')) return {}

  const reader = request.body.getReader()
  const head: Uint8Array[] = []
  let size = 0
  let done = false
  while (size < maxScanBytes) {
    const next = await reader.read()
    if (next.done) {
      done = true
      break
    }
    head.push(next.value)
    size += next.value.byteLength
  }
  const text = new TextDecoder().decode(joinBytes(head, Math.min(size, maxScanBytes)))
  const project = findTopLevelString(text, PROJECT_KEYS)
  return { ...(project ? { project } : {}), body: resume(head, done ? null : reader) }
}

/**
 * The string value of the first top-level member of a JSON object named in `keys`, read from a
 * text that may be cut short; `undefined` when there is none (yet) or the text is not an object.
 */
export function findTopLevelString(text: string, keys: ReadonlySet<string>): string | undefined {
  let i = skipSpace(text, 0)
  if (text[i] !== '{') return undefined
  let depth = 0
  // At depth 1, whether the next string is a member's name (after `{` or `,`).
  let expectKey = false
  for (; i < text.length; i++) {
    const char = text[i]
    if (char === '"') {
      const end = findStringEnd(text, i)
      if (end === -1) return undefined
      if (depth === 1 && expectKey) {
        const name = parseString(text.slice(i, end + 1))
        const colon = skipSpace(text, end + 1)
        if (text[colon] !== ':') return undefined
        const valueAt = skipSpace(text, colon + 1)
        if (name !== undefined && keys.has(name) && text[valueAt] === '"') {
          const valueEnd = findStringEnd(text, valueAt)
          if (valueEnd === -1) return undefined
          const value = parseString(text.slice(valueAt, valueEnd + 1))
          if (value) return value
        }
        expectKey = false
        i = colon
        continue
      }
      i = end
    } else if (char === '{' || char === '[') {
      depth++
      expectKey = depth === 1
    } else if (char === '}' || char === ']') {
      depth--
      if (depth === 0) return undefined
    } else if (char === ',' && depth === 1) {
      expectKey = true
    }
  }
  return undefined
}

function skipSpace(text: string, from: number): number {
  let i = from
  while (
    i < text.length &&
    (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')
  )
    i++
  return i
}

/** The index of the quote that closes the string opening at `start`, or -1 when cut short. */
function findStringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return -1
}

function parseString(literal: string): string | undefined {
  try {
    const value: unknown = JSON.parse(literal)
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

function joinBytes(chunks: Uint8Array[], limit: number): Uint8Array {
  const joined = new Uint8Array(limit)
  let offset = 0
  for (const chunk of chunks) {
    if (offset >= limit) break
    const part = chunk.subarray(0, limit - offset)
    joined.set(part, offset)
    offset += part.byteLength
  }
  return joined
}

/** The chunks already read, then the rest of the reader's stream, pulled as the consumer asks. */
function resume(
  head: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array> | null,
): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index < head.length) {
        controller.enqueue(head[index++]!)
        return
      }
      if (!reader) return controller.close()
      const next = await reader.read()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
    cancel: (reason) => reader?.cancel(reason),
  })
}
