/**
 * The S3 REST API's XML with fast-xml-parser: reads listings, upload ids and error answers, and
 * writes the CompleteMultipartUpload body. Portable: pure JS, no node:*, runs in workerd too.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser'

const parser = new XMLParser({
  ignoreAttributes: true,
  // Keys, tokens and ids are opaque text: "0123" must stay a string, " a" keep its space.
  parseTagValue: false,
  trimValues: false,
  // S3 writes control characters in keys as numeric references (`&#x0D;`); decode those too.
  htmlEntities: true,
  isArray: (_name, path) => path === 'ListBucketResult.Contents',
})
const builder = new XMLBuilder({})

export interface ListPage {
  /** Every `<Key>` of the page's `<Contents>`, decoded. */
  keys: string[]
  truncated: boolean
  nextToken: string | undefined
}

export interface S3ErrorFields {
  code: string | undefined
  message: string | undefined
}

/** An answer as a tree; one that is not XML (a proxy's HTML page, nothing) reads as empty. */
function parse(xml: string): Record<string, unknown> {
  try {
    return toRecord(parser.parse(xml)) ?? {}
  } catch {
    return {}
  }
}

function toRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** A ListObjectsV2 page. */
export function readListPage(xml: string): ListPage {
  const result = toRecord(parse(xml).ListBucketResult) ?? {}
  const contents = Array.isArray(result.Contents) ? result.Contents : []
  return {
    keys: contents.map((entry: unknown) => textOf(toRecord(entry)?.Key) ?? ''),
    truncated: textOf(result.IsTruncated) === 'true',
    nextToken: textOf(result.NextContinuationToken),
  }
}

/** The `UploadId` of a CreateMultipartUpload answer. */
export function readUploadId(xml: string): string | undefined {
  return textOf(toRecord(parse(xml).InitiateMultipartUploadResult)?.UploadId)
}

/** The code and message of an `<Error>` answer; `undefined` when the answer is no error. */
export function readErrorFields(xml: string): S3ErrorFields | undefined {
  const error = parse(xml).Error
  if (error === undefined) return undefined
  const fields = toRecord(error)
  return { code: textOf(fields?.Code), message: textOf(fields?.Message) }
}

/** The CompleteMultipartUpload body naming every part by number and ETag, in order. */
export function toCompleteMultipartUpload(etags: string[]): string {
  const parts = etags.map((etag, index) => ({ PartNumber: index + 1, ETag: etag }))
  return builder.build({ CompleteMultipartUpload: { Part: parts } }) as string
}
