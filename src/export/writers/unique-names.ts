/**
 * Names made unique in the order they are asked for, so no column is lost when a reader keeps
 * only the last of two equal names (JSON keys, Parquet and Arrow fields). Portable.
 */

/** Returns each wanted name as is the first time, then with `_2`, `_3`, … (the first unused). */
export function createUniqueNames(): (wanted: string) => string {
  const used = new Set<string>()
  return (wanted) => {
    let name = wanted
    for (let n = 2; used.has(name); n++) name = `${wanted}_${n}`
    used.add(name)
    return name
  }
}
