/**
 * Frame builders for tests: a TCP segment in an Ethernet frame from a few readable fields,
 *
 *   tcpFrame({ from: '198.18.0.2:40000', to: '198.18.0.1:80', flags: 'S', seq: 1000,
 *              options: [opt.mss(1460), opt.sackOk(), opt.ts(1, 0), opt.nop(), opt.wscale(7)] })
 *
 * with lengths and checksums filled by the wire records, so the frame is what a kernel would send.
 */
import { emitFrame } from '../wire/frame.js';
import { tcpFrameRepr } from '../wire/tcp-frame.js';
import type { TcpFrameFields } from '../wire/tcp-frame.js';
import { TcpFlags } from '../wire/tcp.js';
import type { TcpOption, TcpRepr } from '../wire/tcp.js';

/** tcpdump's letters: S SYN, F FIN, R RST, P PSH, U URG, E ECE, W CWR, e AE, '.' ACK. */
export function parseFlags(letters: string): number {
  let f = 0;
  for (const ch of letters) {
    switch (ch) {
      case 'S': f |= TcpFlags.SYN; break;
      case 'F': f |= TcpFlags.FIN; break;
      case 'R': f |= TcpFlags.RST; break;
      case 'P': f |= TcpFlags.PSH; break;
      case 'U': f |= TcpFlags.URG; break;
      case 'E': f |= TcpFlags.ECE; break;
      case 'W': f |= TcpFlags.CWR; break;
      case 'e': f |= TcpFlags.AE; break;
      case '.': f |= TcpFlags.ACK; break;
      default:
        throw new RangeError(`unknown TCP flag letter ${JSON.stringify(ch)} in ${JSON.stringify(letters)}`);
    }
  }
  return f;
}

/** Option shorthands, as packetdrill and tcpdump name them. */
export const opt = {
  mss: (value: number): TcpOption => ({ kind: 'mss', value }),
  wscale: (shift: number): TcpOption => ({ kind: 'wscale', shift }),
  sackOk: (): TcpOption => ({ kind: 'sack-permitted' }),
  sack: (...blocks: Array<[number, number]>): TcpOption => ({ kind: 'sack', blocks }),
  ts: (tsVal: number, tsEcr: number): TcpOption => ({ kind: 'timestamps', tsVal, tsEcr }),
  nop: (): TcpOption => ({ kind: 'nop' }),
  eol: (): TcpOption => ({ kind: 'eol' }),
} as const;

export interface TcpFrameSpec {
  /** "198.18.0.2:40000" or "[2001:db8::2]:40000". */
  from: string;
  to: string;
  flags: string;
  seq: number;
  ack?: number;
  window?: number;
  options?: TcpOption[];
  payload?: Uint8Array | string;
  srcMac?: string;
  dstMac?: string;
  /** VLAN ids, outermost first (802.1Q tags). */
  vlans?: number[];
  ttl?: number;
}

export function splitEndpoint(text: string): { addr: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new RangeError(`not an endpoint (ip:port or [ip6]:port): ${JSON.stringify(text)}`);
  return { addr: m[1] as string, port: Number(m[2]) };
}

/** The TcpRepr of a spec (no IP or link layer). */
export function tcpSegment(spec: TcpFrameSpec): TcpRepr {
  const src = splitEndpoint(spec.from);
  const dst = splitEndpoint(spec.to);
  const payload = typeof spec.payload === 'string' ? new TextEncoder().encode(spec.payload) : (spec.payload ?? new Uint8Array(0));
  return {
    srcPort: src.port,
    dstPort: dst.port,
    seq: spec.seq >>> 0,
    ack: (spec.ack ?? 0) >>> 0,
    flags: parseFlags(spec.flags),
    window: spec.window ?? 64240,
    urgent: 0,
    options: spec.options ?? [],
    payload,
  };
}

/** An Ethernet frame carrying the segment, with correct lengths and checksums. */
export function tcpFrame(spec: TcpFrameSpec): Uint8Array {
  const tcp = tcpSegment(spec);
  const fields: TcpFrameFields = {
    srcMac: spec.srcMac ?? '02:00:00:00:00:02',
    dstMac: spec.dstMac ?? '02:00:00:00:00:01',
    src: splitEndpoint(spec.from).addr,
    dst: splitEndpoint(spec.to).addr,
    tcp,
  };
  if (spec.vlans !== undefined) fields.vlans = spec.vlans;
  if (spec.ttl !== undefined) fields.ttl = spec.ttl;
  const repr = tcpFrameRepr(fields);
  return emitFrame(repr);
}
