/**
 * Test-only: the IP packets of a capture, located by a deliberately small link-layer reader (the link
 * types in shared/pcaps and in fixtures/ip-ext-linux.pcap), so the IP codecs are checked on bytes they did
 * not locate themselves.
 *
 * fixtures/ip-ext-linux.pcap was captured for these tests from the Linux 6.18 kernel, because no capture
 * in shared/pcaps holds IPv4 options (`tshark -Y 'ip.hdr_len > 20'` finds nothing) or IPv6 extension
 * headers other than none (`tshark -Y 'ipv6.nxt != 6 && ipv6.nxt != 17 && ipv6.nxt != 58'` finds
 * nothing). Two throwaway network namespaces (sa-ipl-a, sa-ipl-b) joined by a veth pair with MTU 1280,
 * 02:00:00:00:00:01 / 198.18.0.1/24 / 2001:db8::1/64 and 02:00:00:00:00:02 / 198.18.0.2/24 /
 * 2001:db8::2/64; `tcpdump --immediate-mode -s 0 -w` (4.99) on the second from before the first link
 * came up (MLDv2 reports with a Router Alert hop-by-hop option, neighbour discovery); then, from the first,
 * Python UDP sockets (source port 40000, destination port 9, nobody listening, so the kernel answered
 * with ICMP port unreachable quoting the headers) sent in this order:
 *   frame  9: IP_OPTIONS NOP + Record Route with one slot                      "synack ipv4 nop+rr"
 *   frame 11: IP_OPTIONS Record Route with one slot (the kernel pads with EOL)   "synack ipv4 rr+eol"
 *   frame 13: IP_OPTIONS Timestamp (timestamps only, two slots)                  "synack ipv4 ts"
 *   frames 15-16: Record Route on a 1400-byte datagram: two fragments; Linux's ip_options_fragment()
 *             turns the uncopied option into NOPs in the second
 *   frames 18-19: a 1400-byte datagram, no options: two fragments
 *   frames 23-24: IPv6, 1400 bytes: two fragments
 *   frame 26: IPV6_HOPOPTS  (experimental option 0x1e + PadN)                   "synack ipv6 hbh"
 *   frame 28: IPV6_DSTOPTS  (Pad1, experimental 0x1e, PadN)                     "synack ipv6 dstopts"
 *   frames 29-30: both, 1400 bytes: Hop-by-Hop, Destination Options, Fragment (Linux keeps a Destination
 *             Options header without a Routing header in the unfragmentable part)
 *   frame 31: IPV6_RTHDR, a Segment Routing header (type 4) with one segment    "synack ipv6 srh"
 *   frames 32-33: the same on 1400 bytes: Routing, then Fragment
 * Each 1400-byte payload is pattern(n, k)[i] = (i*k + 1) & 0xff with k = 7, 5, 11, 13, 3 in that order.
 * The kernel has no AH/ESP (xfrm states with AH could not be created), so AH vectors are built by hand.
 * tools/make-ip-ext-fixture.sh is the recipe, as a script.
 */
import * as path from 'node:path';
import { openCapture } from '../../src/capture/index.js';
import { bytesOf } from '../../src/wire/bytes.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { CAPTURE_FILES, FIXTURES_DIR, corpusPath } from '../corpus.js';

export const LINUX_IP_EXT = path.join(FIXTURES_DIR, 'ip-ext-linux.pcap');

export interface IpRef {
  file: string;
  /** 1-based, as tshark numbers frames. */
  frame: number;
  /** Capture timestamp in microseconds (whole µs, as reassembly takes them). */
  timeUs: number;
  /** The whole frame. */
  b: Bytes;
  /** Where the IP header starts, and the bytes from there to the end of the frame. */
  off: number;
  len: number;
  version: 4 | 6;
}

/**
 * Offset of the network header for a link type, or -1 when the frame carries something else. Shared by
 * the IP and TCP corpus walkers: a deliberately small walker, independent of src/wire.
 */
export function networkOffset(linkType: number, u: Uint8Array, dv: DataView): number {
  switch (linkType) {
    case 1: {
      let at = 12;
      while (at + 2 <= u.length && [0x8100, 0x88a8, 0x9100].includes(dv.getUint16(at))) at += 4;
      if (at + 2 > u.length) return -1;
      const et = dv.getUint16(at);
      return et === 0x0800 || et === 0x86dd ? at + 2 : -1;
    }
    case 113: // Linux SLL: protocol at 14
      return u.length >= 16 && [0x0800, 0x86dd].includes(dv.getUint16(14)) ? 16 : -1;
    case 276: // Linux SLL2: protocol at 0
      return u.length >= 20 && [0x0800, 0x86dd].includes(dv.getUint16(0)) ? 20 : -1;
    case 0: // BSD NULL: family in host order, then IP
      return 4;
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return 0;
    default:
      return -1;
  }
}

export function ipPacketsOf(filePath: string, name = path.basename(filePath)): IpRef[] {
  const out: IpRef[] = [];
  const reader = openCapture(filePath);
  try {
    for (let f = reader.next(); f; f = reader.next()) {
      // The reader reuses its chunk: copy each frame (the files are small).
      const u = f.bytes.u8.slice(f.offset, f.offset + f.capLen);
      const b = bytesOf(u);
      const off = networkOffset(f.linkType, u, b.dv);
      if (off < 0 || off >= u.length) continue;
      const v = (u[off] as number) >> 4;
      if (v !== 4 && v !== 6) continue;
      const timeUs = f.tsSec * 1_000_000 + Math.floor(f.tsNsec / 1000);
      out.push({ file: name, frame: f.index, timeUs, b, off, len: u.length - off, version: v });
    }
    if (reader.error) throw new Error(`${filePath}: ${reader.error.message}`);
  } finally {
    reader.close();
  }
  return out;
}

/** Every IP packet of every capture in shared/pcaps, then of the Linux fixture. */
export function allIpPackets(): IpRef[] {
  const out: IpRef[] = [];
  for (const name of CAPTURE_FILES) out.push(...ipPacketsOf(corpusPath(name), name));
  out.push(...ipPacketsOf(LINUX_IP_EXT));
  return out;
}

/** One frame's IP packet from a capture (throws when the frame holds none). */
export function ipPacketAt(filePath: string, frame: number): IpRef {
  const hit = ipPacketsOf(filePath).find((r) => r.frame === frame);
  if (!hit) throw new Error(`${filePath}: frame ${frame} holds no IP packet`);
  return hit;
}

/** `pattern(n, k)`: the payload generator the fixture's sender used. */
export function pattern(n: number, k: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * k + 1) & 0xff;
  return out;
}
