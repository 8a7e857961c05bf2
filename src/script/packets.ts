/**
 * Packet lines: building the frames an inbound line injects and judging the segments synack sends against
 * an outbound line, with packetdrill's sequence-number model (google/packetdrill socket.h, run_packet.c).
 *
 * Sequence numbers are read the way tcpdump prints them: in a segment with SYN they are absolute, in any
 * other segment relative to the ISN of the side that sent it. The peer's ISN is whatever its first
 * segment in the script says (so `< S 0:0(0)` really carries 0, `< S 17:17(0)` carries 17 and a later
 * `< . 1:1(0)` carries 18); ours is what synack chose, learned from the first SYN or SYN-ACK it sends for
 * the line that expects it, and taken as 0 before that (so `< . 0:0(0) ack 34` to a closed port acks 34
 * and the reset it provokes reads `> R 34:34(0)`). Timestamps: an inbound TS ecr is the live TS val of
 * the outbound line whose script TS val it names; an outbound TS val is compared, relative to the first
 * one seen, only with --tcp_ts_tick_usecs; an outbound TS ecr is never compared (as packetdrill).
 */
import { allocBytes, bytesOf } from '../wire/bytes.js';
import { tcpFrameRepr } from '../wire/tcp-frame.js';
import { emitFrame, parseFrame } from '../wire/frame.js';
import { LinkType } from '../wire/linktype.js';
import { TcpFlags, emitTcpOptions, tcpOptionsLen } from '../wire/tcp.js';
import { flagText, segmentText } from '../wire/tcp-text.js';
import type { TcpOption, TcpRepr } from '../wire/tcp.js';
import type { Endpoint } from '../tcp/env.js';
import type { PacketEvent, TcpOptionSpec } from './ast.js';
import { formatEvent } from './format.js';

// The segment text moved to wire/ (replay/ prints segments too, and layers import only downwards).
export { flagText, segmentText };
import type { ScriptConfig } from './env.js';
import { LOCAL_MAC, REMOTE_MAC } from './env.js';

/** A TCP segment synack sent, as it left the Host. */
export interface Sent {
  /** Virtual time it was sent (µs). */
  readonly time: number;
  /** Order of sending, from 1 (frames out), for the log. */
  readonly n: number;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly seg: TcpRepr;
}

/** packetdrill's socket states (socket.h enum socket_state_t), as far as packets move them. */
export type SockState =
  | 'new'
  | 'listening'
  | 'passive-packet-received'
  | 'passive-synack-sent'
  | 'passive-synack-acked'
  | 'active-connecting'
  | 'active-syn-sent'
  | 'active-syn-acked';

/**
 * One socket of the script (packetdrill's struct socket): the descriptor the script names, its live
 * descriptor, and the mapping between script and live values for the packets of its connection.
 */
export class ScriptSocket {
  state: SockState;
  /** The script's descriptor number (a label), or null for a passive child not accepted yet. */
  scriptFd: number | null;
  liveFd: number | null;
  /** The live 4-tuple, once known. */
  local: Endpoint | null = null;
  remote: Endpoint | null = null;
  /** Our ISN as the script writes it (the seq of its SYN or SYN-ACK line) and as synack chose it. */
  scriptLocalIsn = 0;
  liveLocalIsn = 0;
  /** The peer's ISN: the seq of its first segment in the script; used as written, so live = script. */
  remoteIsn = 0;
  /** Script TS val → live TS val of outbound lines, to map inbound TS ecr (run_packet.c ts_val_map). */
  readonly tsValMap = new Map<number, number>();
  /** Baseline for mapping live TS vals into script space: the first outbound line that carried one. */
  firstTs: { script: number; live: number } | null = null;

  constructor(state: SockState, scriptFd: number | null, liveFd: number | null) {
    this.state = state;
    this.scriptFd = scriptFd;
    this.liveFd = liveFd;
  }
}

// ---------------------------------------------------------------------------------------------------
// Text

/** The script line of a packet event without its time. */
export function scriptPacketText(p: PacketEvent): string {
  return formatEvent(p).replace(/^\S+\s+/, '');
}

// ---------------------------------------------------------------------------------------------------
// Inbound

function u32(n: number): number {
  return n >>> 0;
}

/** The live value of our sequence numbers the peer acknowledges (ack, SACK blocks) in a segment. */
function ackOffset(sock: ScriptSocket, syn: boolean): number {
  return syn ? sock.liveLocalIsn - sock.scriptLocalIsn : sock.liveLocalIsn;
}

/**
 * The options of a script line as a codec record. Inbound (`live`): TS ecr mapped to the live TS val it
 * echoes, SACK blocks moved to live sequence numbers. Returns an error text when an ecr cannot be mapped.
 */
function optionsOf(specs: readonly TcpOptionSpec[], map: { ackOffset: number; sock: ScriptSocket; ack: boolean } | null): TcpOption[] | string {
  const out: TcpOption[] = [];
  for (const o of specs) {
    switch (o.kind) {
      case 'nop':
      case 'eol':
        out.push({ kind: o.kind });
        break;
      case 'mss':
        out.push({ kind: 'mss', value: o.value });
        break;
      case 'wscale':
        out.push({ kind: 'wscale', shift: o.shift });
        break;
      case 'sack-permitted':
        out.push({ kind: 'sack-permitted' });
        break;
      case 'sack': {
        const off = map?.ackOffset ?? 0;
        out.push({ kind: 'sack', blocks: o.blocks.map((b) => [u32(b.left + off), u32(b.right + off)]) });
        break;
      }
      case 'timestamps': {
        let ecr = o.ecr;
        if (map !== null && map.ack && !o.ecrAbsolute) {
          const live = map.sock.tsValMap.get(u32(o.ecr));
          if (live === undefined) return `unable to infer live TS ecr for script TS ecr ${o.ecr};  no matching or preceding outbound TS val`;
          ecr = live;
        }
        out.push({ kind: 'timestamps', tsVal: u32(o.val ?? 0), tsEcr: u32(ecr) });
        break;
      }
      case 'md5':
      case 'fast-open':
      case 'other':
        // unsupportedOf reports these before a run starts.
        throw new Error(`optionsOf: unsupported option ${o.kind}`);
      default: {
        const never: never = o;
        return never;
      }
    }
  }
  return out;
}

/**
 * The live segment an inbound line injects, its sequence numbers, SACK blocks and TS ecr mapped to live
 * values; an error text when the TS ecr names no TS val synack sent.
 */
export function inboundSegment(p: PacketEvent, sock: ScriptSocket, src: Endpoint, dst: Endpoint): TcpRepr | string {
  const flags = p.flags.bits;
  const syn = (flags & TcpFlags.SYN) !== 0;
  const ackSet = (flags & TcpFlags.ACK) !== 0;
  if (p.seq.kind !== 'range') return 'an inbound packet needs a sequence number (...(n) only matches outbound packets)';
  const seq = p.seq.absolute || syn ? p.seq.start : p.seq.start + sock.remoteIsn;
  const off = ackOffset(sock, syn);
  const ack = p.ack === null ? 0 : ackSet ? p.ack.value + off : p.ack.value;
  let options: TcpOption[] = [];
  if (p.options.kind === 'list') {
    const o = optionsOf(p.options.options, { ackOffset: off, sock, ack: ackSet });
    if (typeof o === 'string') return o;
    options = o;
  }
  return {
    srcPort: src.port,
    dstPort: dst.port,
    seq: u32(seq),
    ack: u32(ack),
    flags,
    window: p.win?.value ?? 0,
    urgent: p.urg?.value ?? 0,
    options,
    payload: new Uint8Array(p.seq.length),
  };
}

/** An Ethernet frame from the peer carrying `seg`. `ipId`: the IPv4 identification to use. */
export function inboundFrame(seg: TcpRepr, src: Endpoint, dst: Endpoint, ipId: number): Uint8Array {
  return emitFrame(tcpFrameRepr({ srcMac: REMOTE_MAC, dstMac: LOCAL_MAC, src: src.addr, dst: dst.addr, tcp: seg, ipId }));
}

/** A frame the Host sent, when it is TCP over IP: its addresses and segment. */
export function decodeSent(frame: Uint8Array, time: number, n: number): Sent | null {
  const f = parseFrame(LinkType.ETHERNET, bytesOf(frame), 0, frame.length);
  const net = f.net;
  if ((net.kind !== 'ipv4' && net.kind !== 'ipv6') || net.payload.kind !== 'tcp') return null;
  const seg = net.payload.tcp;
  return { time, n, src: { addr: net.header.src, port: seg.srcPort }, dst: { addr: net.header.dst, port: seg.dstPort }, seg };
}

// ---------------------------------------------------------------------------------------------------
// Outbound

function paddedOptionsLen(options: readonly TcpOption[]): number {
  return (tcpOptionsLen(options) + 3) & ~3;
}

/** The option area as bytes, zero-padded to a multiple of 4 (as it is on the wire). */
function optionBytes(options: readonly TcpOption[]): Uint8Array {
  const b = allocBytes(paddedOptionsLen(options));
  emitTcpOptions(options, b, 0);
  return b.u8;
}

interface OptionItem {
  kind: number;
  /** Kind and length bytes included. */
  bytes: Uint8Array;
}

/** Walks an option area as packetdrill's tcp_options_iterator does: EOL and NOP are one byte each. */
function optionItems(b: Uint8Array): OptionItem[] {
  const out: OptionItem[] = [];
  let i = 0;
  while (i < b.length) {
    const kind = b[i] as number;
    if (kind === 0 || kind === 1) {
      out.push({ kind, bytes: b.subarray(i, i + 1) });
      i += 1;
      continue;
    }
    const len = b[i + 1] ?? 0;
    const n = len < 2 ? b.length - i : Math.min(len, b.length - i);
    out.push({ kind, bytes: b.subarray(i, i + n) });
    i += n;
  }
  return out;
}

/** The fields of two fragments of one aggregated burst that must agree (run_packet.c verify_packet_fragments). */
export function fragmentProblem(prev: Sent, cur: Sent, isLast: boolean): string | null {
  const a = prev.seg;
  const b = cur.seg;
  const fields: Array<[string, number, number]> = [
    ['tcp_data_offset', paddedOptionsLen(a.options), paddedOptionsLen(b.options)],
    ['tcp_syn', a.flags & TcpFlags.SYN, b.flags & TcpFlags.SYN],
    ['tcp_rst', a.flags & TcpFlags.RST, b.flags & TcpFlags.RST],
    ['tcp_ack', a.flags & TcpFlags.ACK, b.flags & TcpFlags.ACK],
    ['tcp_urg', a.flags & TcpFlags.URG, b.flags & TcpFlags.URG],
    ['tcp_ece', a.flags & TcpFlags.ECE, b.flags & TcpFlags.ECE],
    ['tcp_seq', u32(a.seq + a.payload.length), b.seq],
    ['tcp_ack_seq', a.ack, b.ack],
    ['tcp_window', a.window, b.window],
  ];
  for (const [name, e, v] of fields) {
    if (e !== v) return `aggregate candidate packet field ${name}: expected: ${e} (0x${e.toString(16)}) vs actual: ${v} (0x${v.toString(16)})`;
  }
  if (!isLast && b.payload.length !== a.payload.length) {
    return `fragment payload: expected ${a.payload.length} bytes vs actual ${b.payload.length} bytes`;
  }
  return null;
}

/**
 * One outbound segment made of the sniffed pieces (run_packet.c aggregate_packets): the last piece's
 * header with the first one's sequence number and CWR, all the payload, the last one's time.
 */
export function aggregate(pieces: readonly Sent[]): Sent {
  const first = pieces[0] as Sent;
  const last = pieces[pieces.length - 1] as Sent;
  if (pieces.length === 1) return first;
  let len = 0;
  for (const p of pieces) len += p.seg.payload.length;
  const flags = (last.seg.flags & ~TcpFlags.CWR) | (first.seg.flags & TcpFlags.CWR);
  return { ...last, seg: { ...last.seg, seq: first.seg.seq, flags, payload: new Uint8Array(len) } };
}

/** The live segment with its numbers moved to script space (run_packet.c map_outbound_live_packet). */
export function toScriptSpace(live: TcpRepr, sock: ScriptSocket, scriptTs: { val: number | null } | null): TcpRepr {
  const syn = (live.flags & TcpFlags.SYN) !== 0;
  const seqOff = syn ? sock.liveLocalIsn - sock.scriptLocalIsn : sock.liveLocalIsn;
  const ackOff = syn ? 0 : sock.remoteIsn;
  const ackSet = (live.flags & TcpFlags.ACK) !== 0;
  const options = live.options.map((o): TcpOption => {
    if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [u32(l - ackOff), u32(r - ackOff)]) };
    if (o.kind === 'timestamps' && scriptTs !== null && scriptTs.val !== null) {
      // Remember which live TS val the script calls scriptTs.val, for inbound ecrs.
      sock.tsValMap.set(u32(scriptTs.val), o.tsVal);
      sock.firstTs ??= { script: u32(scriptTs.val), live: o.tsVal };
      return { ...o, tsVal: u32(sock.firstTs.script + (o.tsVal - sock.firstTs.live)) };
    }
    return o;
  });
  return {
    ...live,
    seq: u32(live.seq - seqOff),
    ack: ackSet ? u32(live.ack - ackOff) : live.ack,
    options,
  };
}

function field(name: string, expected: number, actual: number): string | null {
  if (expected === actual) return null;
  return `live packet field ${name}: expected: ${expected} (0x${expected.toString(16)}) vs actual: ${actual} (0x${actual.toString(16)})`;
}

export interface OutboundVerdict {
  /** packetdrill's message for the first check that failed, or null. */
  readonly error: string | null;
  /** The segment in script notation (script space). */
  readonly actualText: string;
}

/**
 * Compares a sent segment (already aggregated) with an outbound line, in packetdrill's order
 * (verify_outbound_live_packet): IP length, TCP header fields, options, payload. The time is the
 * caller's to check.
 */
export function verifyOutbound(p: PacketEvent, sent: Sent, sock: ScriptSocket, config: ScriptConfig): OutboundVerdict {
  const scriptTs = p.options.kind === 'list' ? p.options.options.find((o) => o.kind === 'timestamps') : undefined;
  const hasLiveTs = sent.seg.options.some((o) => o.kind === 'timestamps');
  const actual = toScriptSpace(sent.seg, sock, scriptTs !== undefined && scriptTs.kind === 'timestamps' && hasLiveTs ? { val: scriptTs.val } : null);
  const actualText = segmentText(actual);
  const error = verifyFields(p, actual, config);
  return { error, actualText };
}

function verifyFields(p: PacketEvent, a: TcpRepr, config: ScriptConfig): string | null {
  const anyOptions = p.options.kind === 'any';
  let scriptOpts: TcpOption[] = [];
  if (p.options.kind === 'list') {
    const o = optionsOf(p.options.options, null);
    if (typeof o === 'string') return o;
    scriptOpts = o;
  }
  const scriptOptBytes = optionBytes(scriptOpts);
  const actualOptBytes = optionBytes(a.options);
  const allowance = anyOptions ? actualOptBytes.length : 0;
  const payloadLen = p.seq.length;
  const ipLenName = config.ipVersion === 4 ? 'ipv4_total_length' : 'ipv6_payload_len';
  const ipHeader = config.ipVersion === 4 ? 20 : 0;
  const bits = p.flags.bits;
  const bit = (x: number, mask: number): number => ((x & mask) !== 0 ? 1 : 0);
  const checks: Array<string | null> = [
    field(ipLenName, ipHeader + 20 + scriptOptBytes.length + payloadLen + allowance, ipHeader + 20 + actualOptBytes.length + a.payload.length),
    field('tcp_data_offset', 5 + (scriptOptBytes.length + allowance) / 4, 5 + actualOptBytes.length / 4),
    field('tcp_fin', bit(bits, TcpFlags.FIN), bit(a.flags, TcpFlags.FIN)),
    field('tcp_syn', bit(bits, TcpFlags.SYN), bit(a.flags, TcpFlags.SYN)),
    field('tcp_rst', bit(bits, TcpFlags.RST), bit(a.flags, TcpFlags.RST)),
    field('tcp_psh', bit(bits, TcpFlags.PSH), bit(a.flags, TcpFlags.PSH)),
    field('tcp_ack', bit(bits, TcpFlags.ACK), bit(a.flags, TcpFlags.ACK)),
    field('tcp_urg', bit(bits, TcpFlags.URG), bit(a.flags, TcpFlags.URG)),
    field('tcp_ece', bit(bits, TcpFlags.ECE), bit(a.flags, TcpFlags.ECE)),
    field('tcp_cwr', bit(bits, TcpFlags.CWR), bit(a.flags, TcpFlags.CWR)),
    field('tcp_ae', bit(bits, TcpFlags.AE), bit(a.flags, TcpFlags.AE)),
    field('tcp_reserved_bits', 0, a.reserved ?? 0),
  ];
  for (const c of checks) if (c !== null) return c;
  if (p.seq.kind === 'range') {
    const e = field('tcp_seq', u32(p.seq.start), u32(a.seq));
    if (e !== null) return e;
  }
  const rest = [
    field('tcp_ack_seq', u32(p.ack?.value ?? 0), u32(a.ack)),
    p.win === null ? null : field('tcp_window', p.win.value, a.window),
    field('tcp_urg_ptr', p.urg?.value ?? 0, a.urgent),
  ];
  for (const c of rest) if (c !== null) return c;
  if (!anyOptions) {
    const tsSpec = p.options.kind === 'list' ? p.options.options.find((o) => o.kind === 'timestamps') : undefined;
    const checkTsVal = config.tsTickUsecs > 0 && tsSpec !== undefined && tsSpec.kind === 'timestamps' && tsSpec.val !== null;
    const e = optionsProblem(scriptOptBytes, actualOptBytes, scriptOpts, a.options, checkTsVal, config);
    if (e !== null) return e;
  }
  for (const b of a.payload) if (b !== 0) return 'incorrect outbound data payload';
  return null;
}

/** run_packet.c verify_outbound_live_tcp_options: kinds in order; lengths and bytes, TS val by tick only. */
function optionsProblem(
  scriptBytes: Uint8Array,
  actualBytes: Uint8Array,
  scriptOpts: readonly TcpOption[],
  actualOpts: readonly TcpOption[],
  checkTsVal: boolean,
  config: ScriptConfig,
): string | null {
  const s = optionItems(scriptBytes);
  const a = optionItems(actualBytes);
  for (let i = 0; i < Math.max(s.length, a.length); i++) {
    const so = s[i];
    const ao = a[i];
    if (so === undefined || ao === undefined || so.kind !== ao.kind) return 'bad outbound TCP options';
    if (ao.kind === 0 || ao.kind === 1) continue;
    if (ao.kind === 8) {
      const st = scriptOpts.find((o) => o.kind === 'timestamps');
      const at = actualOpts.find((o) => o.kind === 'timestamps');
      if (checkTsVal && st !== undefined && at !== undefined && st.kind === 'timestamps' && at.kind === 'timestamps') {
        const diff = Math.abs((at.tsVal - st.tsVal) | 0);
        if (diff * config.tsTickUsecs > config.toleranceUsecs) return `bad outbound TCP timestamp value, tolerance ${config.toleranceUsecs}`;
      }
      continue;
    }
    if (so.bytes.length !== ao.bytes.length) return `bad lengths for outbound TCP option ${so.kind}`;
    for (let j = 2; j < so.bytes.length; j++) {
      if (so.bytes[j] !== ao.bytes[j]) return `bad value outbound TCP option ${so.kind}`;
    }
  }
  return null;
}
