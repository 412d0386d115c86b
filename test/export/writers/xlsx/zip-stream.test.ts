/**
 * The streamed ZIP under the xlsx writer, read back by SheetJS's own ZIP reader (CFB): entries
 * whole in any write split, every one deflated, and the 32-bit size bound. Node (the reader).
 */
import { describe, expect, it } from 'vitest'
import * as XLSX from 'xlsx'
import { GatewayError } from '../../../../src/errors.ts'
import { createZipStream } from '../../../../src/export/writers/xlsx/zip-stream.ts'
import { concat } from '../../support.ts'

const decoder = new TextDecoder()

/** The part of SheetJS's bundled CFB reader this test uses. */
interface Cfb {
  read(
    bytes: Uint8Array,
    options: { type: 'array' },
  ): {
    FileIndex: { name: string; type: number; content: unknown }[]
    FullPaths: string[]
  }
}

/** Each entry of the archive: its name and text. */
function readEntries(bytes: Uint8Array): [string, string][] {
  const container = (XLSX as unknown as { CFB: Cfb }).CFB.read(bytes, { type: 'array' })
  return container.FileIndex.flatMap((entry, i) => {
    // Type 2 is a file; the \u0001 name is a marker entry the reader adds itself.
    if (entry.type !== 2 || entry.name.startsWith('\u0001')) return []
    const path = container.FullPaths[i]!.replace(/^[^/]*\//, '')
    return [[path, decoder.decode(entry.content as Uint8Array)] as [string, string]]
  })
}

describe('export/writers/xlsx/zip-stream', () => {
  it('writes entries whole, in order, whatever pieces their text came in', () => {
    const zip = createZipStream({ level: 1 })
    const parts: Uint8Array[] = []
    zip.addText('a.xml', '<a/>')
    parts.push(zip.take())
    const entry = zip.open('dir/b.xml')
    const pieces = Array.from({ length: 20_000 }, (_, i) => `<row n="${i}">é😀</row>`)
    for (const piece of pieces) {
      entry.write(piece)
      parts.push(zip.take())
    }
    entry.close()
    zip.addText('[Content_Types].xml', '')
    zip.end()
    parts.push(zip.take())
    expect(zip.take()).toHaveLength(0)
    expect(readEntries(concat(parts))).toEqual([
      ['a.xml', '<a/>'],
      ['dir/b.xml', pieces.join('')],
      ['[Content_Types].xml', ''],
    ])
    // Bytes came out while the entry was written, not only at the end.
    expect(parts.filter((p) => p.length > 0).length).toBeGreaterThan(4)
  })

  it('deflates every entry, so no reader must find the end of a stored one', () => {
    const zip = createZipStream({ level: 1 })
    zip.addText('a.xml', 'x'.repeat(100))
    zip.end()
    const bytes = zip.take()
    const view = new DataView(bytes.buffer, bytes.byteOffset)
    expect(view.getUint32(0, true)).toBe(0x04034b50)
    // General purpose flags: sizes in a data descriptor; method 8, deflate.
    expect(view.getUint16(6, true) & 8).toBe(8)
    expect(view.getUint16(8, true)).toBe(8)
  })

  it('writes the same bytes twice (a fixed entry time)', () => {
    const write = () => {
      const zip = createZipStream({ level: 1 })
      zip.addText('a.xml', '<a/>')
      zip.end()
      return zip.take()
    }
    expect(write()).toEqual(write())
  })

  it('fails with a GatewayError past the most bytes an entry or the archive may have', () => {
    const entryTooLarge = () => {
      const zip = createZipStream({ level: 1, maxBytes: 100_000 })
      const entry = zip.open('a.xml')
      entry.write('x'.repeat(100_001))
      entry.close()
    }
    expect(entryTooLarge).toThrow(GatewayError)
    expect(entryTooLarge).toThrow(/passes 4 GiB.*Download it as CSV/)
    const archiveTooLarge = () => {
      const zip = createZipStream({ level: 0, maxBytes: 100_000 })
      for (let i = 0; i < 3; i++) zip.addText(`${i}.xml`, 'y'.repeat(40_000))
    }
    expect(archiveTooLarge).toThrow(GatewayError)
  })
})
