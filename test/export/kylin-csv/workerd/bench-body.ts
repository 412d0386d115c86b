/**
 * The transcode benchmark's body (bench/transcode.bench.ts: Kylin-shaped rows × 10 columns, in
 * 64 KiB chunks), made where it is transcoded so workerd runs need no upload. Portable.
 */
const CHUNK = 64 * 1024

/** Kylin-shaped rows: mostly ASCII, some escapes (quotes, newlines), non-ASCII, and nulls. */
export function toRow(i: number): (string | null)[] {
  const day = String(1 + (i % 28)).padStart(2, '0')
  return [
    `2013-08-${day}`,
    String(100000 + i),
    i % 3 === 0 ? 'Auction' : 'Others',
    `${i % 1000}.${i % 97}`,
    i % 5 === 0 ? null : 'ABIN',
    i % 7 === 0 ? 'Zürich' : i % 11 === 0 ? '東京' : 'NYC',
    String(i % 50),
    String(10000000 + (i % 1000)),
    i % 13 === 0 ? 'say "hi"\nbye' : i % 17 === 0 ? 'a,b' : 'ok',
    i % 4 === 0 ? null : 'FP-GTC',
  ]
}

export function toBenchBody(rows: number): Uint8Array[] {
  const rowsJson: string[] = []
  for (let i = 0; i < rows; i++) rowsJson.push(JSON.stringify(toRow(i)))
  const labels = Array.from({ length: 10 }, (_, i) => ({ label: `C${i}`, name: `C${i}` }))
  const text = `{"columnMetas":${JSON.stringify(labels)},"results":[${rowsJson.join(',')}],"partial":false}`
  const whole = new TextEncoder().encode(text)
  const chunks: Uint8Array[] = []
  for (let i = 0; i < whole.length; i += CHUNK) chunks.push(whole.subarray(i, i + CHUNK))
  return chunks
}
