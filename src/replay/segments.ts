/**
 * The TCP segments of one host, read from a capture for emulate mode: every segment it sent (the
 * expectations) and every segment sent to it (what the emulated host is fed), as records that outlive
 * the reader's reused frame. Emulate mode needs the whole list before it starts (the application is
 * inferred from what comes later), so this is the one place where replay/ keeps a capture's segments:
 * only the chosen host's.
 */
import { openCapture } from '../capture/reader.js';
import type { CaptureError } from '../capture/errors.js';
import type { CaptureFormat, CaptureReader } from '../capture/frame.js';
import { formatIpv4, formatIpv6, formatMac } from '../wire/address.js';
import type { Bytes } from '../wire/bytes.js';
import { pseudoHeaderSum } from '../wire/checksum.js';
import { FrameDecoder } from '../wire/frame-decoder.js';
import { IpProtocol } from '../wire/ipproto.js';
import { LinkType } from '../wire/linktype.js';
import { TcpPacket, parseTcpRepr, verifyTcpChecksum } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';

/** One TCP segment to or from the emulated host, as the capture holds it. */
export interface CapturedSegment {
  /** Frame number, from 1 as Wireshark counts. */
  frame: number;
  /** µs since the capture's first frame. */
  timeUs: number;
  src: string;
  dst: string;
  /** Ethernet addresses, when the link type has them. */
  srcMac: string | null;
  dstMac: string | null;
  tcp: TcpRepr;
  /** Sent by the emulated host (an expectation); otherwise sent to it (fed to it). */
  fromHost: boolean;
  checksumOk: boolean;
  /** The snap length cut the payload: `tcp.payload` holds only its first bytes. */
  truncated: boolean;
  /** The segment's full payload length, per the IP header. */
  payloadLength: number;
}

export interface HostSegments {
  file: string;
  format: CaptureFormat;
  segments: CapturedSegment[];
  /** Every IP address that sent or received a TCP segment, in order of appearance (for messages). */
  addresses: string[];
  frames: number;
  error: CaptureError | null;
}

/** Reads the segments to and from any of `self` (a path, or a reader already open: it is read to the end). */
export function hostSegments(source: string | CaptureReader, self: readonly string[]): HostSegments {
  const fromPath = typeof source === 'string';
  const reader = fromPath ? openCapture(source) : source;
  const dec = new FrameDecoder();
  const segments: CapturedSegment[] = [];
  const names = new Names();
  const seen = new Set<string>();
  const addresses: string[] = [];
  const note = (a: string): void => {
    if (!seen.has(a)) {
      seen.add(a);
      addresses.push(a);
    }
  };
  let t0: number | null = null;
  let frames = 0;
  try {
    for (let fr = reader.next(); fr !== null; fr = reader.next()) {
      frames++;
      const abs = fr.tsSec * 1_000_000 + Math.floor(fr.tsNsec / 1000);
      t0 ??= abs;
      const info = dec.decode(fr.linkType, fr.bytes, fr.offset, fr.capLen, fr.index, abs).info;
      const ib = info.bytes;
      if (!info.tcp || ib === null || info.error !== null || info.l4Protocol !== IpProtocol.TCP) continue;
      const v4 = info.addrLen === 4;
      const src = v4 ? names.ipv4(ib, info.addrOffset) : names.ipv6(ib, info.addrOffset);
      const dst = v4 ? names.ipv4(ib, info.addrOffset + 4) : names.ipv6(ib, info.addrOffset + 16);
      note(src);
      note(dst);
      const fromHost = self.includes(src);
      if (!fromHost && !self.includes(dst)) continue;
      const pkt = TcpPacket.check(ib, info.l4Offset, info.l4Captured, info.l4Length);
      if (typeof pkt === 'string') continue;
      const tcp = parseTcpRepr(pkt);
      if (typeof tcp === 'string') continue;
      // Most segments carry no data: one empty array for all of them, not a buffer each.
      if (tcp.payload.length === 0) tcp.payload = NO_BYTES;
      const whole = info.l4Captured >= info.l4Length;
      const pseudo = pseudoHeaderSum(ib, info.addrOffset, info.addrLen as 4 | 16, IpProtocol.TCP, info.l4Length);
      const ether = fr.linkType === LinkType.ETHERNET && fr.capLen >= 12;
      segments.push({
        frame: fr.index,
        timeUs: abs - t0,
        src,
        dst,
        srcMac: ether ? names.mac(fr.bytes, fr.offset + 6) : null,
        dstMac: ether ? names.mac(fr.bytes, fr.offset) : null,
        tcp,
        fromHost,
        // Only a segment captured whole can be checked.
        checksumOk: !whole || verifyTcpChecksum(ib, info.l4Offset, info.l4Length, pseudo),
        truncated: !whole,
        payloadLength: info.tcpPayloadLength > 0 ? info.tcpPayloadLength : 0,
      });
    }
  } finally {
    if (fromPath) reader.close();
  }
  return { file: reader.file, format: reader.format, segments, addresses, frames, error: reader.error };
}

const NO_BYTES = new Uint8Array(0);

/**
 * One string per address: a capture names the same few addresses and MACs in every frame, and each
 * segment kept for the whole emulation would otherwise hold its own copies. IPv4 addresses and MACs are looked up by their numeric value, before any text.
 */
class Names {
  private readonly v4 = new Map<number, string>();
  private readonly macs = new Map<number, string>();
  private readonly text = new Map<string, string>();

  ipv4(b: Bytes, off: number): string {
    const k = b.dv.getUint32(off);
    let s = this.v4.get(k);
    if (s === undefined) this.v4.set(k, (s = formatIpv4(b, off)));
    return s;
  }

  ipv6(b: Bytes, off: number): string {
    const t = formatIpv6(b, off);
    const s = this.text.get(t);
    if (s !== undefined) return s;
    this.text.set(t, t);
    return t;
  }

  mac(b: Bytes, off: number): string {
    const k = b.dv.getUint16(off) * 0x1_0000_0000 + b.dv.getUint32(off + 2);
    let s = this.macs.get(k);
    if (s === undefined) this.macs.set(k, (s = formatMac(b, off)));
    return s;
  }
}

const ep = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** "local remote" of a segment as the emulated host sees it: its own end first. */
export function hostTuple(s: { src: string; dst: string; tcp: TcpRepr; fromHost: boolean }): string {
  return s.fromHost ? `${ep(s.src, s.tcp.srcPort)} ${ep(s.dst, s.tcp.dstPort)}` : `${ep(s.dst, s.tcp.dstPort)} ${ep(s.src, s.tcp.srcPort)}`;
}

/** "ip:port" / "[v6]:port". */
export const endpointText = ep;
