/**
 * Addresses in records are strings in their canonical text form ("198.18.0.1", "2001:db8::1",
 * "02:00:00:00:00:01"): records are built only for the few segments a socket accepts, and strings
 * compare, print and serialise plainly. Hot paths read addresses from views as numbers instead.
 */
import type { Bytes } from './bytes.js';

export type Ipv4Address = string;
export type Ipv6Address = string;
export type IpAddress = string;
export type MacAddress = string;

export function formatIpv4(b: Bytes, off: number): Ipv4Address {
  const u = b.u8;
  return `${u[off]}.${u[off + 1]}.${u[off + 2]}.${u[off + 3]}`;
}

export function ipv4ToUint32(b: Bytes, off: number): number {
  return b.dv.getUint32(off);
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function writeIpv4(addr: Ipv4Address, b: Bytes, off: number): void {
  const m = V4.exec(addr);
  if (!m) throw new RangeError(`not an IPv4 address: ${JSON.stringify(addr)}`);
  for (let i = 0; i < 4; i++) {
    const n = Number(m[i + 1]);
    if (n > 255) throw new RangeError(`not an IPv4 address: ${JSON.stringify(addr)}`);
    b.u8[off + i] = n;
  }
}

export function isIpv4(addr: string): boolean {
  const m = V4.exec(addr);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run (>= 2) of zero groups as "::". */
export function formatIpv6(b: Bytes, off: number): Ipv6Address {
  const dv = b.dv;
  // An IPv4-mapped address prints its tail as dotted quad, as inet_ntop does.
  if (dv.getUint32(off) === 0 && dv.getUint32(off + 4) === 0 && dv.getUint32(off + 8) === 0xffff) {
    return `::ffff:${formatIpv4(b, off + 12)}`;
  }
  // Longest run of zero groups, first one on a tie (RFC 5952 §4.2.3); no arrays: this runs per frame.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (dv.getUint16(off + 2 * i) !== 0) { i++; continue; }
    let j = i + 1;
    while (j < 8 && dv.getUint16(off + 2 * j) === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += dv.getUint16(off + 2 * i).toString(16);
  }
  return out;
}

export function writeIpv6(addr: Ipv6Address, b: Bytes, off: number): void {
  const groups = parseIpv6Groups(addr);
  if (!groups) throw new RangeError(`not an IPv6 address: ${JSON.stringify(addr)}`);
  for (let i = 0; i < 8; i++) b.dv.setUint16(off + 2 * i, groups[i] as number);
}

export function isIpv6(addr: string): boolean {
  return parseIpv6Groups(addr) !== null;
}

function parseIpv6Groups(addr: string): number[] | null {
  let text = addr;
  const tail: number[] = [];
  // A dotted-quad tail ("::ffff:198.18.0.1") stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    const m = V4.exec(text.slice(lastColon + 1));
    if (!m) return null;
    const p = m.slice(1).map(Number);
    if (p.some((x) => x > 255)) return null;
    tail.push(((p[0] as number) << 8) | (p[1] as number), ((p[2] as number) << 8) | (p[3] as number));
    text = text.slice(0, lastColon + 1);
    // "a:b::" keeps its "::"; "a:b:" (a plain separator before the quad) loses the colon.
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const h of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) return null;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  const want = 8 - tail.length;
  const gap = text.indexOf('::');
  if (gap < 0) {
    const all = groupsOf(text);
    return all && all.length === want ? [...all, ...tail] : null;
  }
  if (text.includes('::', gap + 1)) return null;
  const head = groupsOf(text.slice(0, gap));
  const rest = groupsOf(text.slice(gap + 2));
  if (!head || !rest || head.length + rest.length > want - 1) return null;
  const zeros = new Array<number>(want - head.length - rest.length).fill(0);
  return [...head, ...zeros, ...rest, ...tail];
}

/** "00".."ff". */
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(b: Bytes, off: number): MacAddress {
  // join() makes one flat string; `+=` would leave a chain of eleven pieces, all kept while the MAC is.
  const u = b.u8;
  return [HEX_BYTE[u[off] as number], HEX_BYTE[u[off + 1] as number], HEX_BYTE[u[off + 2] as number], HEX_BYTE[u[off + 3] as number], HEX_BYTE[u[off + 4] as number], HEX_BYTE[u[off + 5] as number]].join(':');
}

export function writeMac(mac: MacAddress, b: Bytes, off: number): void {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new RangeError(`not a MAC address: ${JSON.stringify(mac)}`);
  }
  for (let i = 0; i < 6; i++) b.u8[off + i] = parseInt(parts[i] as string, 16);
}

/** "ip:port", or "[ip6]:port" for IPv6 (DESIGN.md output contract). */
export function formatEndpoint(addr: IpAddress, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
