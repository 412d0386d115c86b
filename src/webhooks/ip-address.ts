/**
 * Which IP addresses a webhook may reach: every special-purpose range (loopback, private,
 * link-local, unique-local, CGNAT, multicast, unspecified, reserved), IPv4 inside IPv6 included.
 * Portable. Input is an address as text: dotted IPv4 or any IPv6 form, brackets and zone allowed.
 */

/** Why an address is not a public one, or `null` for a public (globally routable) address. */
export type AddressKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'shared (CGNAT)'
  | 'multicast'
  | 'reserved'

/** IPv4 ranges no webhook should reach unless named: [first address, prefix length, kind]. */
const IPV4_RANGES: [string, number, AddressKind][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
]

/** Dotted-decimal IPv4 (exactly four parts, 0–255, no leading zeros) as a 32-bit number. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  let value = 0
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null
    value = value * 256 + Number(part)
  }
  return value
}

/** Any textual IPv6 (`::`, an IPv4 tail, brackets, a `%zone`) as eight 16-bit groups. */
export function parseIpv6(text: string): number[] | null {
  let body = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  const zone = body.indexOf('%')
  if (zone >= 0) body = body.slice(0, zone)
  if (!body.includes(':')) return null
  const halves = body.split('::')
  if (halves.length > 2) return null
  const toGroups = (part: string): number[] | null => {
    if (part === '') return []
    const groups: number[] = []
    const pieces = part.split(':')
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece)
        if (v4 === null) return null
        groups.push(Math.floor(v4 / 65536), v4 % 65536)
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) groups.push(parseInt(piece, 16))
      else return null
    }
    return groups
  }
  const head = toGroups(halves[0]!)
  const tail = halves.length === 2 ? toGroups(halves[1]!) : []
  if (!head || !tail) return null
  if (halves.length === 1) return head.length === 8 ? head : null
  const missing = 8 - head.length - tail.length
  if (missing < 1) return null
  return [...head, ...new Array<number>(missing).fill(0), ...tail]
}

function classifyIpv4(value: number): AddressKind | null {
  if (value === 0xffffffff) return 'reserved'
  for (const [first, prefix, kind] of IPV4_RANGES) {
    const base = parseIpv4(first)!
    const size = 2 ** (32 - prefix)
    if (value >= base && value < base + size) return kind
  }
  return null
}

function classifyIpv6(groups: number[]): AddressKind | null {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const embedded = (high: number, low: number) => classifyIpv4(high * 65536 + low)
  const zeros = (n: number) => groups.slice(0, n).every((g) => g === 0)
  if (zeros(8)) return 'unspecified'
  if (zeros(7) && g7 === 1) return 'loopback'
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): the IPv4 address decides.
  if (zeros(5) && g5 === 0xffff) return embedded(g6, g7) ?? null
  if (zeros(6)) return embedded(g6, g7) ?? 'reserved'
  // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds; its local-use /48 is private.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return embedded(g6, g7)
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private'
  // 6to4 (2002::/16) carries an IPv4 address in its second and third groups.
  if (g0 === 0x2002) return embedded(g1, g2)
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local'
  if ((g0 & 0xffc0) === 0xfec0) return 'private'
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local'
  if ((g0 & 0xff00) === 0xff00) return 'multicast'
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved'
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'
  // 2001::/23: IETF protocol assignments (Teredo, ORCHID, …), none a plain public host.
  if (g0 === 0x2001 && g1 < 0x0200) return 'reserved'
  return null
}

/** Whether `text` is an IP address at all (IPv4 dotted decimal or IPv6, bracketed or not). */
export function isIpAddress(text: string): boolean {
  return parseIpv4(text) !== null || parseIpv6(text) !== null
}

/**
 * Why the address is not a public one, or `null` when it is public (or not an address: names
 * are resolved first, and each address they resolve to is asked about).
 */
export function classifyAddress(text: string): AddressKind | null {
  const v4 = parseIpv4(text)
  if (v4 !== null) return classifyIpv4(v4)
  const v6 = parseIpv6(text)
  return v6 ? classifyIpv6(v6) : null
}
