/**
 * One frame, described: the object `synack frames --json` prints per line, and the tcpdump-style line
 * `synack frames` prints. Both are views of what wire/decode.ts found; nothing here decides anything.
 */
import { formatEpoch } from '../capture/timestamp.js';
import type { CaptureFrame } from '../capture/frame.js';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import { fromHex, hex } from '../wire/bytes.js';
import type { Bytes } from '../wire/bytes.js';
import { segmentVerifies } from '../wire/checksum.js';
import type { FrameInfo } from '../wire/decode.js';
import { ArpView } from '../wire/arp.js';
import { Icmpv6View, Icmpv6Type } from '../wire/icmpv6.js';
import { IpProtocol, ipProtocolName } from '../wire/ipproto.js';
import { etherTypeName, linkTypeName } from '../wire/linktype.js';
import { TcpPacket, TcpFlags, TcpOptionKind, TCP_HEADER_LEN, parseTcpRepr, parseTcpOptions, formatTcpFlags, formatTcpOptions } from '../wire/tcp.js';
import type { TcpOption } from '../wire/tcp.js';

/** The capture-side facts of a frame that a summary shows. */
export type FrameMeta = Pick<CaptureFrame, 'index' | 'interfaceId' | 'linkType' | 'tsSec' | 'tsNsec' | 'capLen' | 'origLen'>;

export type ChecksumStatus = 'good' | 'bad' | 'unverified';

/** A TCP option as JSON: byte strings as hex. */
export type JsonTcpOption =
  | { kind: 'eol' | 'nop' | 'sack-permitted' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'timestamps'; tsVal: number; tsEcr: number }
  | { kind: 'fast-open' | 'fast-open-exp'; cookie: string }
  | { kind: 'unknown'; type: number; data: string }
  /** An option the capture cut: only its kind is known. */
  | { kind: 'truncated'; type: number };

export interface TcpSummary {
  srcPort: number;
  dstPort: number;
  /** tcpdump letters: S, S., P., F., R, R., . */
  flags: string;
  /** The 9 flag bits as a number (TcpFlags). */
  flagBits: number;
  /** Raw (absolute) sequence and acknowledgment numbers. */
  seq: number;
  ack: number;
  /** Raw 16-bit window field, unscaled. */
  window: number;
  urgent: number;
  options: JsonTcpOption[];
  /** Hex of the option bytes from a malformed option on, when there is one. */
  malformedOptions?: string;
  /** Payload bytes the segment carries (from the IP length, like tshark's tcp.len). */
  payloadLength: number;
  checksum: ChecksumStatus;
}

export interface FrameSummary {
  frame: number;
  /** Absolute time, seconds since the epoch with nanoseconds: "1700000000.000231000". */
  time: string;
  /** Seconds since the first frame. */
  relTime: number;
  interface: number;
  linkType: number;
  capLen: number;
  len: number;
  vlan?: number[];
  /** EtherType (or SLL protocol / BSD family) when the frame carries no IP. */
  etherType?: number;
  net: 'ipv4' | 'ipv6' | 'arp' | 'other' | 'none';
  src?: string;
  dst?: string;
  ttl?: number;
  ipProtocol?: number;
  ipChecksum?: ChecksumStatus;
  fragment?: { id: number; offset: number; more: boolean };
  /** For the frame that completed a fragmented datagram: the frames its fragments came in. */
  reassembledFrom?: number[];
  tcp?: TcpSummary;
  arp?: { operation: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string };
  icmpv6?: { type: number; code: number; target?: string };
  /** Why decoding stopped early: the layer, the reason and the byte offset in the frame. */
  error?: { layer: string; reason: string; offset: number };
  /** Fewer bytes captured than were on the wire (snap length). */
  truncated?: boolean;
}

function jsonOption(o: TcpOption): JsonTcpOption {
  switch (o.kind) {
    case 'fast-open':
    case 'fast-open-exp':
      return { kind: o.kind, cookie: hex(o.cookie) };
    case 'unknown':
      return { kind: 'unknown', type: o.type, data: hex(o.data) };
    case 'sack':
      return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [l, r] as [number, number]) };
    default:
      return o;
  }
}

function addressText(b: Bytes, off: number, len: number): string {
  return len === 4 ? formatIpv4(b, off) : formatIpv6(b, off);
}

/**
 * Describes one decoded frame. `info` may point at a reassembled datagram (its own bytes) for the frame
 * that completed one; `reassembledFrom` then lists the fragment frames.
 */
export function summarizeFrame(meta: FrameMeta, info: FrameInfo, first: { tsSec: number; tsNsec: number }, reassembledFrom?: readonly number[]): FrameSummary {
  const s: FrameSummary = {
    frame: meta.index,
    time: formatEpoch(meta.tsSec, meta.tsNsec),
    relTime: meta.tsSec - first.tsSec + (meta.tsNsec - first.tsNsec) / 1e9,
    interface: meta.interfaceId,
    linkType: meta.linkType,
    capLen: meta.capLen,
    len: meta.origLen,
    net: info.net,
  };
  if (info.vlanCount > 0) s.vlan = Array.from(info.vlanIds.subarray(0, info.vlanCount));
  if (meta.capLen < meta.origLen) s.truncated = true;
  const b = info.bytes;
  if (b !== null && info.addrLen !== 0) {
    s.src = addressText(b, info.addrOffset, info.addrLen);
    s.dst = addressText(b, info.addrOffset + info.addrLen, info.addrLen);
    s.ttl = info.ttl;
    s.ipProtocol = info.l4Protocol;
    if (info.addrLen === 4) s.ipChecksum = info.ipChecksumOk ? 'good' : 'bad';
    if (info.fragment) s.fragment = { id: info.fragId, offset: info.fragOffset, more: info.fragMore };
  } else if (info.net !== 'none' && info.protocol >= 0) {
    s.etherType = info.protocol;
  }
  if (reassembledFrom && reassembledFrom.length > 0) s.reassembledFrom = [...reassembledFrom];
  if (b !== null && info.tcp) s.tcp = summarizeTcp(info, b);
  if (b !== null && info.net === 'arp') {
    const arp = ArpView.check(b, info.netOffset, info.frameOffset + info.capLen - info.netOffset);
    if (typeof arp !== 'string' && arp.isEthernetIpv4) {
      s.arp = {
        operation: arp.operation,
        senderMac: arp.senderMac,
        senderIp: formatIpv4(b, arp.senderProtocolOffset),
        targetMac: arp.targetMac,
        targetIp: formatIpv4(b, arp.targetProtocolOffset),
      };
    }
  }
  if (b !== null && info.l4Protocol === IpProtocol.ICMPV6 && !info.fragment) {
    const icmp = Icmpv6View.check(b, info.l4Offset, info.l4Captured);
    if (typeof icmp !== 'string') {
      s.icmpv6 = { type: icmp.type, code: icmp.code };
      if (icmp.isNeighborSolicitation || icmp.isNeighborAdvertisement) s.icmpv6.target = icmp.target;
    }
  }
  if (info.error !== null) s.error = { layer: info.errorLayer ?? 'link', reason: info.error, offset: info.errorOffset };
  return s;
}

/** The options of a header the capture cut: whole options decoded, the cut one by its kind alone. */
function cutOptions(b: Bytes, off: number, end: number): JsonTcpOption[] {
  const out: JsonTcpOption[] = [];
  for (let p = off; p < end; ) {
    const kind = b.u8[p] as number;
    if (kind === TcpOptionKind.EOL || kind === TcpOptionKind.NOP) {
      out.push({ kind: kind === TcpOptionKind.EOL ? 'eol' : 'nop' });
      if (kind === TcpOptionKind.EOL) break;
      p++;
      continue;
    }
    const len = p + 1 < end ? (b.u8[p + 1] as number) : 0;
    const one = len >= 2 && p + len <= end ? parseTcpOptions(b, p, len) : 'truncated';
    if (typeof one === 'string') {
      out.push({ kind: 'truncated', type: kind });
      break;
    }
    out.push(...one.map(jsonOption));
    p += len;
  }
  return out;
}

/** The TCP checksum of a decoded segment: 'unverified' when the capture does not hold all of it. */
export function tcpChecksumStatus(info: FrameInfo): ChecksumStatus {
  const b = info.bytes;
  if (b === null || !info.tcp || info.l4Captured < info.l4Length) return 'unverified';
  return segmentVerifies(b, info.addrOffset, info.addrLen as 4 | 16, IpProtocol.TCP, info.l4Offset, info.l4Length) ? 'good' : 'bad';
}

function summarizeTcp(info: FrameInfo, b: Bytes): TcpSummary {
  const headerCut = info.l4Captured < info.tcpHeaderLength;
  const pkt = headerCut ? TcpPacket.unchecked(b, info.l4Offset, info.l4Captured) : (TcpPacket.check(b, info.l4Offset, info.l4Captured, info.l4Length) as TcpPacket);
  // Options straight from their bytes: a whole TcpRepr would copy the payload of every segment.
  const parsed = headerCut ? null : parseTcpOptions(b, pkt.optionsOffset, pkt.optionsLength);
  // A malformed list: the record parser keeps the options before the bad one and the raw rest.
  const repr = parsed !== null && typeof parsed === 'string' ? parseTcpRepr(pkt) : null;
  const options =
    parsed === null
      ? cutOptions(b, info.l4Offset + TCP_HEADER_LEN, info.l4Offset + info.l4Captured)
      : typeof parsed !== 'string'
        ? parsed.map(jsonOption)
        : repr !== null && typeof repr !== 'string'
          ? repr.options.map(jsonOption)
          : [];
  const checksum = tcpChecksumStatus(info);
  const t: TcpSummary = {
    srcPort: pkt.srcPort,
    dstPort: pkt.dstPort,
    flags: formatTcpFlags(pkt.flags),
    flagBits: pkt.flags,
    seq: pkt.seq,
    ack: pkt.ack,
    window: pkt.window,
    urgent: pkt.urgent,
    options,
    payloadLength: info.tcpPayloadLength,
    checksum,
  };
  if (repr !== null && typeof repr !== 'string' && repr.malformedOptions) t.malformedOptions = hex(repr.malformedOptions);
  return t;
}

function endpoint(addr: string, port: number): string {
  return `${addr}.${port}`;
}

/** Back from JSON form to option records, for the tcpdump-style formatter. */
function optionRecord(o: Exclude<JsonTcpOption, { kind: 'truncated' }>): TcpOption {
  switch (o.kind) {
    case 'fast-open':
    case 'fast-open-exp':
      return { kind: o.kind, cookie: fromHex(o.cookie) };
    case 'unknown':
      return { kind: 'unknown', type: o.type, data: fromHex(o.data) };
    default:
      return o;
  }
}

/**
 * tcpdump -S style (absolute sequence numbers), prefixed by the frame number and the seconds since the
 * first frame: `12 0.000231 198.18.0.2.40212 > 198.18.0.1.80: Flags [S], seq 3031523911, win 64240,
 * options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0`.
 */
export function formatFrameLine(s: FrameSummary): string {
  return `${s.frame} ${s.relTime.toFixed(6)} ${formatFrameBody(s)}`;
}

/** The line of `formatFrameLine` without the frame number and time: what the frame is. */
export function formatFrameBody(s: FrameSummary): string {
  const head = s.vlan ? `vlan ${s.vlan.join('.')} ` : '';
  let body: string;
  if (s.tcp && s.src !== undefined && s.dst !== undefined) {
    const t = s.tcp;
    body = `${endpoint(s.src, t.srcPort)} > ${endpoint(s.dst, t.dstPort)}: Flags [${t.flags}]`;
    body += `, seq ${t.seq}`;
    if (t.payloadLength > 0) body += `:${(t.seq + t.payloadLength) % 2 ** 32}`;
    if ((t.flagBits & TcpFlags.ACK) !== 0) body += `, ack ${t.ack}`;
    body += `, win ${t.window}`;
    if (t.options.length > 0) {
      const whole = t.options.filter((o): o is Exclude<JsonTcpOption, { kind: 'truncated' }> => o.kind !== 'truncated');
      const cut = t.options.find((o) => o.kind === 'truncated');
      const parts = [whole.length > 0 ? formatTcpOptions(whole.map(optionRecord)) : '', cut ? `kind ${cut.type} [cut]` : ''];
      body += `, options [${parts.filter((x) => x !== '').join(',')}]`;
    }
    body += `, length ${t.payloadLength}`;
    if (t.checksum === 'bad') body += ' [bad tcp cksum]';
    if (s.reassembledFrom) body += ` [reassembled from ${s.reassembledFrom.join(',')}]`;
  } else if (s.arp) {
    const a = s.arp;
    body =
      a.operation === 1
        ? `ARP, Request who-has ${a.targetIp} tell ${a.senderIp}`
        : a.operation === 2
          ? `ARP, Reply ${a.senderIp} is-at ${a.senderMac}`
          : `ARP, operation ${a.operation} ${a.senderIp} > ${a.targetIp}`;
  } else if (s.icmpv6 && s.src !== undefined && s.dst !== undefined) {
    const i = s.icmpv6;
    const what =
      i.type === Icmpv6Type.NEIGHBOR_SOLICITATION
        ? `neighbor solicitation, who has ${i.target}`
        : i.type === Icmpv6Type.NEIGHBOR_ADVERTISEMENT
          ? `neighbor advertisement, tgt is ${i.target}`
          : `type ${i.type}, code ${i.code}`;
    body = `${s.src} > ${s.dst}: ICMP6, ${what}`;
  } else if (s.src !== undefined && s.dst !== undefined) {
    body = `${s.src} > ${s.dst}: ${ipProtocolName(s.ipProtocol ?? -1)}`;
    if (s.fragment) body += ` (frag id ${s.fragment.id}, offset ${s.fragment.offset}${s.fragment.more ? ', more' : ''})`;
  } else if (s.net === 'none') {
    body = `${linkTypeName(s.linkType)} frame`;
  } else {
    body = s.etherType !== undefined ? `ethertype ${etherTypeName(s.etherType)} (0x${s.etherType.toString(16).padStart(4, '0')})` : `${linkTypeName(s.linkType)} frame`;
    body += `, length ${s.capLen}`;
  }
  if (s.error) body += ` [${s.error.reason} ${s.error.layer} header at byte ${s.error.offset}]`;
  if (s.truncated) body += ` [captured ${s.capLen} of ${s.len} bytes]`;
  return head + body;
}
