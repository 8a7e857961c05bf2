/**
 * RFC 6528 initial sequence numbers: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * where M is a clock and F a keyed hash. Linux (net/core/secure_seq.c, secure_tcp_seq) uses SipHash
 * with a boot-time random key for F and, for M, the real-time clock in 64 ns ticks ("a clock of 64 ns
 * period is OK", so the 32-bit sequence space wraps every 274 s, longer than a TIME-WAIT). RFC 6528 §3
 * itself suggests 4 µs ticks; `tickNs` chooses.
 *
 * Linux also hashes the two addresses with a second key for the per-connection TSval offset
 * (secure_tcp_ts_off): tsOffset() does the same.
 *
 * The hash runs once per connection, not per segment; keys are kept as BigInt pairs for readability.
 */
import { isIpv4, writeIpv4, writeIpv6 } from '../wire/address.js';
import { bytesOf } from '../wire/bytes.js';
import { sipHash24 as sipHash } from '../wire/siphash.js';
import type { Endpoint, IsnSource, Random } from './env.js';

/** SipHash-2-4 of `msg` under the 128-bit key (k0, k1), as a 64-bit BigInt (wire/siphash.ts computes it). */
export function sipHash24(k0: bigint, k1: bigint, msg: Uint8Array): bigint {
  const key = new Uint32Array([Number(k0 & 0xffffffffn), Number(k0 >> 32n), Number(k1 & 0xffffffffn), Number(k1 >> 32n)]);
  const out = new Uint32Array(2);
  sipHash(key, msg, msg.length, out);
  return (BigInt(out[1] as number) << 32n) | BigInt(out[0] as number);
}

/** The address bytes (4 or 16) of a text address. */
function addrBytes(addr: string): Uint8Array {
  const b = bytesOf(new Uint8Array(isIpv4(addr) ? 4 : 16));
  if (b.u8.length === 4) writeIpv4(addr, b, 0);
  else writeIpv6(addr, b, 0);
  return b.u8;
}

function randomKey(rand: Random): [bigint, bigint] {
  const w = (): bigint => BigInt(rand.nextU32() >>> 0);
  return [(w() << 32n) | w(), (w() << 32n) | w()];
}

export interface Rfc6528Options {
  /** Length of one clock tick in nanoseconds: Linux 64, RFC 6528 §3 suggests 4000. */
  tickNs?: number;
}

/**
 * The default ISN source: keyed hash of the 4-tuple plus a clock, keys drawn from `rand` once, here.
 * `nowUs` is the caller's clock (a Host passes its own), so replays are deterministic.
 */
export function rfc6528Isn(rand: Random, options: Rfc6528Options = {}): IsnSource {
  const tickNs = options.tickNs ?? 64;
  const [s0, s1] = randomKey(rand);
  const [t0, t1] = randomKey(rand);
  return {
    isn(local: Endpoint, remote: Endpoint, nowUs: number): number {
      const la = addrBytes(local.addr);
      const ra = addrBytes(remote.addr);
      const msg = new Uint8Array(la.length + ra.length + 4);
      msg.set(la, 0);
      msg.set(ra, la.length);
      const p = la.length + ra.length;
      msg[p] = local.port >> 8;
      msg[p + 1] = local.port & 0xff;
      msg[p + 2] = remote.port >> 8;
      msg[p + 3] = remote.port & 0xff;
      const f = Number(sipHash24(s0, s1, msg) & 0xffffffffn);
      return (f + clockTicks(nowUs, tickNs)) >>> 0;
    },
    tsOffset(local: Endpoint, remote: Endpoint): number {
      const la = addrBytes(local.addr);
      const ra = addrBytes(remote.addr);
      const msg = new Uint8Array(la.length + ra.length);
      msg.set(la, 0);
      msg.set(ra, la.length);
      return Number(sipHash24(t0, t1, msg) & 0xffffffffn);
    },
  };
}

/**
 * floor(nowUs * 1000 / tickNs) mod 2^32 without losing precision on large clocks (epoch microseconds
 * times 15.625 would pass 2^53).
 */
export function clockTicks(nowUs: number, tickNs: number): number {
  const t = BigInt(Math.floor(nowUs)) * 1000n / BigInt(tickNs);
  return Number(t & 0xffffffffn);
}
