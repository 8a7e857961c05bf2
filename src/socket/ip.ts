/**
 * Addresses as numbers for the socket table. The API side speaks text ("198.18.0.1", "2001:db8::1");
 * the tables store and compare 32-bit words. Every address is held as the four big-endian words of
 * its IPv6 form, an IPv4 address as v4-mapped (::ffff:a.b.c.d), so one comparison serves both
 * families and an AF_INET6 socket bound to ::ffff:a.b.c.d lines up with its IPv4 twin, as Linux
 * treats it (inet_rcv_saddr_equal compares two IPV6_ADDR_MAPPED addresses as IPv4 ones).
 */
import { allocBytes } from '../wire/bytes.js';
import { formatIpv4, formatIpv6, isIpv4, isIpv6, writeIpv4, writeIpv6 } from '../wire/address.js';

export interface IpKey {
  /** Family of the text the key came from: 4 for "a.b.c.d", 6 for any IPv6 text (v4-mapped too). */
  readonly family: 4 | 6;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

const scratch = allocBytes(16);

/** The key for an address text, or undefined when the text is neither IPv4 nor IPv6. */
export function parseIp(text: string): IpKey | undefined {
  const dv = scratch.dv;
  if (isIpv4(text)) {
    writeIpv4(text, scratch, 0);
    return { family: 4, w0: 0, w1: 0, w2: 0xffff, w3: dv.getUint32(0) };
  }
  if (isIpv6(text)) {
    writeIpv6(text, scratch, 0);
    return { family: 6, w0: dv.getUint32(0), w1: dv.getUint32(4), w2: dv.getUint32(8), w3: dv.getUint32(12) };
  }
  return undefined;
}

/** parseIp for callers that hold a programmer-supplied address (tests, records built in code). */
export function ipKeyOrThrow(text: string): IpKey {
  const k = parseIp(text);
  if (k === undefined) throw new RangeError(`not an IP address: ${JSON.stringify(text)}`);
  return k;
}

export function isMappedWords(w0: number, w1: number, w2: number): boolean {
  return w0 === 0 && w1 === 0 && w2 === 0xffff;
}

/** IPv4 text, or IPv6 text of a v4-mapped address: either reaches the IPv4 tables. */
export function isV4Like(k: IpKey): boolean {
  return isMappedWords(k.w0, k.w1, k.w2);
}

/** The wildcard of the key's own family: 0.0.0.0 for IPv4 text, :: for IPv6 text. */
export function isAnyKey(k: IpKey): boolean {
  return k.family === 4 ? k.w3 === 0 : (k.w0 | k.w1 | k.w2 | k.w3) === 0;
}

export function ipKeyText(k: IpKey): string {
  return k.family === 4 ? ipv4Text(k.w3) : ipv6Text(k.w0, k.w1, k.w2, k.w3);
}

export function ipv4Text(addr: number): string {
  scratch.dv.setUint32(0, addr);
  return formatIpv4(scratch, 0);
}

export function ipv6Text(w0: number, w1: number, w2: number, w3: number): string {
  const dv = scratch.dv;
  dv.setUint32(0, w0);
  dv.setUint32(4, w1);
  dv.setUint32(8, w2);
  dv.setUint32(12, w3);
  return formatIpv6(scratch, 0);
}
