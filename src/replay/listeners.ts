/**
 * Listener inference: who answered SYNs. A SYN-ACK from (address, port) says a socket listened there,
 * unless that same end had itself sent a plain SYN on the 4-tuple (a simultaneous open: both ends send
 * SYN then SYN-ACK, and neither listens).
 *
 * Done as a pre-pass over the file, before the replay, because the descriptors must be right from the
 * first frame: a server opens its listeners before any client connects, so listeners take the lowest
 * descriptors (3, 4, ...) and the accepted sockets the ones after. Deciding lazily at the first SYN-ACK
 * would hand a listener found late (mail on :25 after three web clients) a descriptor an accepted socket
 * should have had, and would change verdicts already given. The pre-pass streams the file once more with
 * its own decoder and keeps only the listeners found plus a fixed 256 KiB table of recent SYN senders, so
 * memory stays flat. Its cost is close to reading the file: the common frame (Ethernet, IPv4, TCP) is
 * passed over by its flags byte, and only SYNs and frames of other shapes are looked at further.
 */
import { openCapture } from '../capture/reader.js';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import type { Bytes } from '../wire/bytes.js';
import { ethernetIpv4TcpFlags, ethernetIpv4TcpOffset } from '../wire/decode.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { IPV4_ADDRESS_OFFSET } from '../wire/ipv4.js';
import { FrameDecoder } from '../wire/frame-decoder.js';
import { LinkType } from '../wire/linktype.js';
import { TcpFlags } from '../wire/tcp.js';

export interface InferredListener {
  /** The host's address as text. */
  address: string;
  port: number;
  /** Frame number of its first SYN-ACK. */
  frame: number;
}

/**
 * Read size for replay's passes over a file (this pre-pass and observe.ts's): a chunk small enough to
 * stay in the CPU's L2 cache while its frames are decoded (the reader's 8 MiB default is gone from it
 * by then, and the connection tables need the cache too). ~10% faster than 8 MiB on the 100k workload.
 */
export const REPLAY_CHUNK_SIZE = 256 * 1024;

/** Slots of the recent-SYN table: a direct-mapped set of 32-bit hashes of (src, sport, dst, dport). */
const SYN_SLOTS = 1 << 16;

/** Every listener the capture shows answering a SYN, in the order of their first SYN-ACK. */
export function inferListeners(path: string): InferredListener[] {
  const reader = openCapture(path, { chunkSize: REPLAY_CHUNK_SIZE });
  const dec = new FrameDecoder();
  const synSent = new Int32Array(SYN_SLOTS);
  // Listeners found, by IPv4 address and then port: keys that are small integers (address * 65536 +
  // port would be a heap number made and hashed at every SYN-ACK).
  const seenV4 = new Map<number, Set<number>>();
  const seenV6 = new Set<string>();
  const out: InferredListener[] = [];
  try {
    for (let f = reader.next(); f !== null; f = reader.next()) {
      // The common frame says at once, by the flags byte at its fixed offset, whether it matters here
      // (a SYN); the rest of it is never read.
      const fixed = f.linkType === LinkType.ETHERNET ? ethernetIpv4TcpFlags(f.bytes, f.offset, f.capLen) : -1;
      if (fixed >= 0 && (fixed & (TcpFlags.SYN | TcpFlags.RST)) !== TcpFlags.SYN) continue;
      // A common SYN whose TCP header is whole needs no decoder either: its offsets are known.
      let b = f.bytes;
      let o = fixed >= 0 ? ethernetIpv4TcpOffset(b, f.offset, f.capLen) : -1;
      let addrOffset = f.offset + ETHERNET_HEADER_LEN + IPV4_ADDRESS_OFFSET;
      let addrLen = 4;
      if (o < 0) {
        const { info } = dec.decodeAt(f.linkType, f.bytes, f.offset, f.capLen, f.index, f.tsSec, f.tsNsec);
        if (!info.tcp || info.bytes === null) continue;
        b = info.bytes;
        o = info.l4Offset;
        addrOffset = info.addrOffset;
        addrLen = info.addrLen;
      }
      const flags = b.dv.getUint16(o + 12) & 0x1ff;
      if ((flags & (TcpFlags.SYN | TcpFlags.RST)) !== TcpFlags.SYN) continue;
      const sport = b.dv.getUint16(o);
      const dport = b.dv.getUint16(o + 2);
      const h = dirHash(b, addrOffset, addrLen, sport, dport);
      const slot = h & (SYN_SLOTS - 1);
      if ((flags & TcpFlags.ACK) === 0) {
        synSent[slot] = h;
        continue;
      }
      // A SYN-ACK: a listener, unless its sender sent a plain SYN the same way (simultaneous open).
      if (synSent[slot] === h) continue;
      if (addrLen === 4) {
        const address = b.dv.getInt32(addrOffset);
        let ports = seenV4.get(address);
        if (ports === undefined) {
          ports = new Set();
          seenV4.set(address, ports);
        }
        if (ports.has(sport)) continue;
        ports.add(sport);
        out.push({ address: formatIpv4(b, addrOffset), port: sport, frame: f.index });
      } else {
        const address = formatIpv6(b, addrOffset);
        const key = `${address}|${sport}`;
        if (seenV6.has(key)) continue;
        seenV6.add(key);
        out.push({ address, port: sport, frame: f.index });
      }
    }
  } finally {
    reader.close();
  }
  return out;
}

/**
 * A non-zero 32-bit hash of one direction's addresses and ports (murmur3-style mixing), signed: a small
 * integer, where an unsigned one past 2^31 would be a heap number made at every SYN.
 */
function dirHash(b: Bytes, addrOff: number, addrLen: number, sport: number, dport: number): number {
  let h = 0x9747b28c;
  for (let i = 0; i < 2 * addrLen; i += 4) h = mix(h, b.dv.getUint32(addrOff + i));
  h = mix(h, ((sport << 16) | dport) >>> 0);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 1;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
