/**
 * SYN cookies, laid out as Linux does (net/ipv4/syncookies.c): the ISN of a SYN-ACK sent without keeping
 * state encodes the peer's MSS and a minute counter, so the ACK that completes the handshake can rebuild
 * the connection.
 *
 *   ISN = H(key, 4-tuple, 0) + SEG.SEQ(of the SYN) + (count << 24) + ((H(key, 4-tuple, count) + mssIndex) mod 2^24)
 *
 * `count` advances once a minute (tcp_cookie_time); a cookie older than two counts is refused. The MSS
 * is one of four values (the table). When the SYN carried timestamps, the low 6 bits of our TSval say
 * which window scale and whether SACK was offered (cookie_init_timestamp), and come back in TSecr.
 * Everything here is pure: key, addresses and time in, numbers out.
 */
import { isIpv4, writeIpv4, writeIpv6 } from '../wire/address.js';
import { bytesOf } from '../wire/bytes.js';
import type { Endpoint, Random } from './env.js';
import { sipHash24 } from './isn.js';

export type CookieKey = [bigint, bigint];

/** Linux msstab for IPv4 (syncookies.c) and IPv6 (1280, 1480, 1500, 9000 minus 60). */
export const COOKIE_MSS_IPV4: readonly number[] = [536, 1300, 1440, 1460];
export const COOKIE_MSS_IPV6: readonly number[] = [1220, 1420, 1440, 8940];

const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
/** Linux MAX_SYNCOOKIE_AGE: a cookie from this many counts ago is refused. */
export const MAX_COOKIE_AGE = 2;
/** TSval bits that carry the options (TSBITS). */
const TS_BITS = 6;
const TS_MASK = (1 << TS_BITS) - 1;
const TS_WSCALE_NONE = 0xf;
const TS_SACK = 0x10;

export function keyFrom(rand: Random): CookieKey {
  const w = (): bigint => BigInt(rand.nextU32() >>> 0);
  return [(w() << 32n) | w(), (w() << 32n) | w()];
}

/** tcp_cookie_time: minutes since the epoch of the caller's clock. */
export function cookieTime(nowUs: number): number {
  return Math.floor(nowUs / 60_000_000) >>> 0;
}

function hash(key: CookieKey, local: Endpoint, remote: Endpoint, count: number, which: number): number {
  const v4 = isIpv4(local.addr);
  const alen = v4 ? 4 : 16;
  const b = bytesOf(new Uint8Array(2 * alen + 9));
  if (v4) {
    writeIpv4(remote.addr, b, 0);
    writeIpv4(local.addr, b, alen);
  } else {
    writeIpv6(remote.addr, b, 0);
    writeIpv6(local.addr, b, alen);
  }
  b.dv.setUint16(2 * alen, remote.port);
  b.dv.setUint16(2 * alen + 2, local.port);
  b.dv.setUint32(2 * alen + 4, count >>> 0);
  b.u8[2 * alen + 8] = which;
  return Number(sipHash24(key[0], key[1], b.u8) & 0xffffffffn);
}

/** The table index for a peer MSS: the largest entry not above it (Linux __cookie_v4_init_sequence). */
export function mssIndex(mss: number, table: readonly number[]): number {
  let i = table.length - 1;
  while (i > 0 && mss < (table[i] as number)) i--;
  return i;
}

/** The cookie ISN for a SYN with sequence number `synSeq` from `remote` to `local`. */
export function encodeCookie(key: CookieKey, local: Endpoint, remote: Endpoint, synSeq: number, mssInd: number, nowUs: number): number {
  const count = cookieTime(nowUs);
  const h1 = hash(key, local, remote, 0, 0);
  const h2 = hash(key, local, remote, count, 1);
  return (h1 + synSeq + ((count << COOKIE_BITS) >>> 0) + ((h2 + mssInd) & COOKIE_MASK)) >>> 0;
}

/**
 * Checks the ACK of a cookie SYN-ACK: `synSeq` = SEG.SEQ - 1, `cookie` = SEG.ACK - 1. Returns the MSS
 * index, or -1 for a forged, stale or corrupted cookie (Linux __cookie_v4_check).
 */
export function decodeCookie(key: CookieKey, local: Endpoint, remote: Endpoint, synSeq: number, cookie: number, nowUs: number, tableLen = 4): number {
  const count = cookieTime(nowUs);
  const c = (cookie - hash(key, local, remote, 0, 0) - synSeq) >>> 0;
  const diff = (count - (c >>> COOKIE_BITS)) & (0xffffffff >>> COOKIE_BITS);
  if (diff >= MAX_COOKIE_AGE) return -1;
  const ind = (c - hash(key, local, remote, (count - diff) >>> 0, 1)) & COOKIE_MASK;
  return ind < tableLen ? ind : -1;
}

/**
 * Our TSval in a cookie SYN-ACK: the clock with its low bits replaced by the offered options, never
 * ahead of the clock (cookie_init_timestamp).
 */
export function cookieTsVal(tsNow: number, peerWscale: number, sackOk: boolean): number {
  let options = peerWscale >= 0 ? peerWscale : TS_WSCALE_NONE;
  if (sackOk) options |= TS_SACK;
  let ts = ((tsNow & ~TS_MASK) | options) >>> 0;
  if (((ts - tsNow) | 0) > 0) ts = (ts - (1 << TS_BITS)) >>> 0;
  return ts;
}

/** The options a cookie's TSecr carries back (cookie_timestamp_decode), or null if they are impossible. */
export function cookieTsOptions(tsEcr: number): { wscale: number; sackOk: boolean } | null {
  const options = tsEcr & TS_MASK;
  const ws = options & TS_WSCALE_NONE;
  if (ws !== TS_WSCALE_NONE && ws > 14) return null;
  return { wscale: ws === TS_WSCALE_NONE ? -1 : ws, sackOk: (options & TS_SACK) !== 0 };
}
