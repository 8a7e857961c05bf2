/**
 * Test-only: every TCP segment of every capture in the shared corpus, found by a deliberately small
 * link/IP walker (the link types present there; IPv4, IPv6 with extension headers) that shares no
 * code with src/wire beyond Bytes and the pseudo-header sum (frames come from the capture reader), so the TCP codec is checked against bytes it did
 * not locate itself. Its own correctness is checked against tshark's counts in truth/*.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '../../src/capture/index.js';
import type { Bytes } from '../../src/wire/bytes.js';
import { bytesOf } from '../../src/wire/bytes.js';
import { pseudoHeaderSum } from '../../src/wire/checksum.js';
import { CAPTURE_FILES, CORPUS_DIR } from '../corpus.js';
import { networkOffset } from './ip-corpus.js';

export const PCAP_DIR = CORPUS_DIR;

export interface Frame {
  /** Numbered from 1, as tshark does. */
  frame: number;
  linkType: number;
  data: Uint8Array;
}

export interface CorpusSegment {
  file: string;
  frame: number;
  /** The frame's bytes. */
  b: Bytes;
  tcpOff: number;
  /** Segment bytes captured (never more than segmentLen: link trailers are cut off). */
  available: number;
  /** Segment length from the IP header. */
  segmentLen: number;
  pseudoSum: number;
  ipVersion: 4 | 6;
  /** First fragment of a fragmented datagram: the segment continues in other frames. */
  fragment: boolean;
}

export function captureFiles(): string[] {
  return [...CAPTURE_FILES];
}

/** Every frame of a corpus file, copied out of the reader's chunk (the corpus files are small). */
export function readFrames(file: string): Frame[] {
  const reader = openCapture(join(PCAP_DIR, file));
  const out: Frame[] = [];
  try {
    for (let f = reader.next(); f; f = reader.next()) {
      out.push({ frame: f.index, linkType: f.linkType, data: f.bytes.u8.slice(f.offset, f.offset + f.capLen) });
    }
    if (reader.error) throw new Error(reader.error.message);
  } finally {
    reader.close();
  }
  return out;
}


export function tcpSegmentsOf(file: string, frame: Frame): CorpusSegment | null {
  const u = frame.data;
  const b = bytesOf(u);
  const dv = b.dv;
  const ip = networkOffset(frame.linkType, u, dv);
  if (ip < 0 || ip + 20 > u.length) return null;
  const version = (u[ip] as number) >> 4;
  if (version === 4) {
    const ihl = ((u[ip] as number) & 0xf) * 4;
    const total = dv.getUint16(ip + 2);
    const frag = dv.getUint16(ip + 6);
    if (u[ip + 9] !== 6 || (frag & 0x1fff) !== 0) return null;
    const segmentLen = total - ihl;
    const tcpOff = ip + ihl;
    return {
      file,
      frame: frame.frame,
      b,
      tcpOff,
      available: Math.max(0, Math.min(u.length - tcpOff, segmentLen)),
      segmentLen,
      pseudoSum: pseudoHeaderSum(b, ip + 12, 4, 6, segmentLen),
      ipVersion: 4,
      fragment: (frag & 0x2000) !== 0,
    };
  }
  if (version === 6 && ip + 40 <= u.length) {
    const plen = dv.getUint16(ip + 4);
    let nh = u[ip + 6] as number;
    let p = ip + 40;
    let fragment = false;
    for (;;) {
      if (nh === 0 || nh === 43 || nh === 60) {
        nh = u[p] as number;
        p += ((u[p + 1] as number) + 1) * 8;
      } else if (nh === 44) {
        const fo = dv.getUint16(p + 2);
        if ((fo & 0xfff8) !== 0) return null;
        fragment = (fo & 1) !== 0;
        nh = u[p] as number;
        p += 8;
      } else if (nh === 51) {
        nh = u[p] as number;
        p += ((u[p + 1] as number) + 2) * 4;
      } else break;
    }
    if (nh !== 6) return null;
    const segmentLen = ip + 40 + plen - p;
    return {
      file,
      frame: frame.frame,
      b,
      tcpOff: p,
      available: Math.max(0, Math.min(u.length - p, segmentLen)),
      segmentLen,
      pseudoSum: pseudoHeaderSum(b, ip + 8, 16, 6, segmentLen),
      ipVersion: 6,
      fragment,
    };
  }
  return null;
}

export function corpusSegments(file: string): CorpusSegment[] {
  const out: CorpusSegment[] = [];
  for (const f of readFrames(file)) {
    const s = tcpSegmentsOf(file, f);
    if (s) out.push(s);
  }
  return out;
}

export interface Truth {
  packets: number;
  tcp_packets: number;
  truncated_packets: number;
  ipv4_fragment_frames: number;
  ipv6_fragment_frames: number;
  bad_tcp_checksum_packets: number;
  streams: Array<{
    handshake: { syn_frame?: number | null; syn_ack_frame?: number | null };
    syn_options: TruthOptions | null;
    syn_ack_options: TruthOptions | null;
  }>;
}

export interface TruthOptions {
  kinds: number[];
  mss: number | null;
  wscale: number | null;
  sack_perm: boolean;
  timestamps: boolean;
  tfo_cookie: string | null;
  tfo_cookie_request: boolean;
  payload_len: number;
}

export function truthOf(file: string): Truth {
  const name = `${file.slice(0, file.lastIndexOf('.'))}.json`;
  return JSON.parse(readFileSync(join(PCAP_DIR, 'truth', name), 'utf8')) as Truth;
}
