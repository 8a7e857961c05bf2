/**
 * IPv4 and IPv6 fragment reassembly for a capture reader that feeds frames in order with their
 * timestamps. Pure: time comes in as integer microseconds with each call, nothing reads a clock, and the
 * same calls give the same results.
 *
 * The decisions follow Linux (net/ipv4/ip_fragment.c ip_frag_queue/ip_frag_reasm, net/ipv6/reassembly.c
 * ip6_frag_queue/ip6_frag_reasm, net/ipv4/inet_fragment.c inet_frag_queue_insert), read in the kernel
 * source, step by step:
 *
 * - Keys: IPv4 (src, dst, protocol, identification) (RFC 791 §3.2); IPv6 (src, dst, identification)
 *   (RFC 8200 §4.5). Linux also keys on the receiving interface (VRF, link-local destinations); a capture
 *   reader has one interface per stream, so that part is left out.
 * - Overlaps (inet_frag_queue_insert, Linux ≥ 4.19 for IPv4, RFC 5722 for IPv6): a fragment that
 *   overlaps data already queued drops the WHOLE datagram ('overlap'). A fragment lying entirely inside
 *   one run of data already queued is a duplicate and is ignored ('duplicate'; the queue stays). "Run" is
 *   Linux's: fragments appended in order at the tail merge into one run; a fragment that arrives out of
 *   order starts a run of its own that never merges, so a fragment spanning two such runs counts as an
 *   overlap even when its bytes match.
 * - Inconsistent ends (the last fragment ends before data already seen, a second last fragment with a
 *   different end, data beyond a known end, a zero-length fragment): IPv4 drops just that fragment;
 *   IPv6 drops the whole datagram. Both 'bad-fragment'.
 * - A non-last fragment whose length is not a multiple of 8: IPv4 silently cuts the tail to a multiple of
 *   8 (ip_frag_queue: end &= ~7); IPv6 drops the fragment and keeps the queue (RFC 8200 §4.5 asks for a
 *   Parameter Problem).
 * - Size: an IPv6 fragment ending past 65535 is dropped on arrival ('too-big', queue kept); a datagram
 *   whose reassembled size (IPv4 header + data, or IPv6 unfragmentable part − 40 + data) passes
 *   `maxDatagramSize` is dropped when its last hole fills ('too-big'), as ip_frag_reasm/ip6_frag_reasm
 *   do. Jumbograms are not reassembled.
 * - ECN (RFC 3168 §5.3, ip_frag_ecn_table): fragments that mix Not-ECT with ECT/CE drop the datagram at
 *   completion ('ecn-mismatch'). The header handed back is the first fragment's, untouched (Linux ORs CE
 *   into the rebuilt header).
 * - IPv6 atomic fragments (offset 0, M clear) bypass reassembly and complete at once (RFC 6946; Linux's
 *   ipv6_frag_rcv hands them straight on). A Fragment header in a packet with payload length 0 (a
 *   jumbogram, which RFC 2675 forbids to fragment) is 'bad-fragment'.
 * - Time limit: a queue lives from its first fragment; later fragments do not extend it (Linux sets the
 *   timer once, when the queue is made, deliberately not following RFC 791's per-fragment refresh):
 *   30 s for IPv4 (ipfrag_time), 60 s for IPv6 (ip6frag_time, RFC 8200 §4.5). Expired queues are reported 'timeout' on the next call (or by
 *   `expire`), before the new fragment is looked at.
 * - Memory: the bytes of fragments held (IP header + data; not the kernel's skb truesize) across all
 *   pending datagrams, 4 MiB by default (ipfrag_high_thresh). By default, going over evicts the least
 *   recently fed queues first ('evicted-memory'), as Linux's LRU evictor did before 4.17. With
 *   `overMemory: 'refuse'`, fragments arriving while usage is over the limit are dropped instead
 *   ('memory-full'), as inet_frag_find() does since 4.17, and old queues just time out.
 * - Not modelled: ipfrag_max_dist (IPv4 queues reset when too many other fragments from the same peer
 *   arrive in between), header checksum checks (the caller verifies what it wants first), and ICMP
 *   "reassembly time exceeded".
 *
 * Queues whose only fragments were dropped stay (Linux creates the queue before judging the fragment, and
 * what it learnt, such as the end from a zero-length last fragment, still counts); they time out with
 * an empty frame list.
 */
import { copyOut } from './bytes.js';
import type { Ipv4Packet } from './ipv4.js';
import type { Ipv6Packet } from './ipv6.js';
import {
  IPV6_FRAGMENT_HEADER_LEN,
  IPV6_HEADER_LEN,
  ipv6ExtNextHeader,
  ipv6FragmentId,
  ipv6FragmentOffset,
  ipv6MoreFragments,
  newIpv6Chain,
  walkIpv6Headers,
} from './ipv6.js';

export interface ReassemblyOptions {
  /** Bytes of fragments held across all pending datagrams; default 4 MiB (Linux ipfrag_high_thresh). */
  memoryLimit?: number;
  /** Lifetime of an IPv4 queue from its first fragment, µs; default 30 s (Linux ipfrag_time). */
  ipv4TimeoutUs?: number;
  /** Lifetime of an IPv6 queue, µs; default 60 s (Linux ip6frag_time, RFC 8200 §4.5). */
  ipv6TimeoutUs?: number;
  /** Largest reassembled datagram: IPv4 total length, IPv6 payload length; default 65535 (no jumbograms). */
  maxDatagramSize?: number;
  /** Over the memory limit: evict the least recently fed queues (default) or refuse new fragments. */
  overMemory?: 'evict-oldest' | 'refuse';
}

export const REASSEMBLY_DEFAULTS: Readonly<Required<ReassemblyOptions>> = {
  memoryLimit: 4 * 1024 * 1024,
  ipv4TimeoutUs: 30_000_000,
  ipv6TimeoutUs: 60_000_000,
  maxDatagramSize: 65535,
  overMemory: 'evict-oldest',
};

export type FragmentKey =
  | { version: 4; src: string; dst: string; protocol: number; identification: number }
  | { version: 6; src: string; dst: string; identification: number };

/** Why a fragment (and perhaps its datagram) was dropped; see the file comment for each. */
export type FragmentDropReason =
  | 'overlap'
  | 'duplicate'
  | 'too-big'
  | 'bad-fragment'
  | 'truncated'
  | 'ecn-mismatch'
  | 'memory-full'
  | 'evicted-memory';

/** Why a pending datagram was given up without a fragment of its own causing it. */
export type DatagramDropReason = 'timeout' | 'evicted-memory' | 'flushed';

export interface ReassembledDatagram {
  key: FragmentKey;
  /** IPv4: the Protocol field. IPv6: the first fragment's Fragment header Next Header (first header of the payload). */
  protocol: number;
  /**
   * The reassembled bytes (a fresh copy): IPv4, the upper-layer payload; IPv6, the fragmentable part, which
   * starts with `protocol`'s header (possibly a Destination Options header before the upper layer).
   */
  payload: Uint8Array;
  /**
   * The first fragment's header bytes as captured (a copy): IPv4 header with options; IPv6 fixed header
   * through the Fragment header.
   */
  header: Uint8Array;
  /** Frames whose bytes made the datagram, in offset order (ignored duplicates are not listed). */
  frames: number[];
  /** Timestamps (µs) of the first fragment received and of the one that completed the datagram. */
  firstUs: number;
  lastUs: number;
}

export interface DroppedDatagram {
  key: FragmentKey;
  reason: DatagramDropReason | FragmentDropReason;
  /** Frames held for it, in offset order (plus, when a fragment caused the drop, that frame last). */
  frames: number[];
}

export type ReassemblyResult = (
  | { kind: 'not-fragment' }
  | { kind: 'pending' }
  | { kind: 'complete'; datagram: ReassembledDatagram }
  | {
      kind: 'dropped';
      reason: FragmentDropReason;
      /** True when the fragment's whole datagram was discarded with it. */
      datagram: boolean;
      /** This frame alone, or (datagram true) every frame of the discarded datagram, this one last. */
      frames: number[];
    }
) & {
  /** Other datagrams dropped during this call: timed out, or evicted for memory. Usually empty. */
  alsoDropped: readonly DroppedDatagram[];
};

interface Piece {
  offset: number;
  end: number;
  data: Uint8Array;
  frame: number;
  cost: number;
}

/** A run of contiguous data as Linux's rb-tree holds it (see inet_frag_queue_insert). */
interface Run {
  start: number;
  end: number;
}

interface Queue {
  readonly id: string;
  readonly key: FragmentKey;
  readonly deadlineUs: number;
  readonly firstUs: number;
  pieces: Piece[];
  runs: Run[];
  /** Datagram data length as far as known (Linux q.len). */
  len: number;
  /** Bytes of data held (Linux q.meat). */
  meat: number;
  firstIn: boolean;
  lastIn: boolean;
  /** OR of 1 << ECN over the fragments (Linux ipq.ecn). */
  ecnBits: number;
  header: Uint8Array | null;
  /** IPv6: Next Header of the first fragment's Fragment header; IPv4: the protocol. */
  protocol: number;
  /** Bytes of memory accounted to this queue. */
  cost: number;
}

type InsertOutcome = 'ok' | 'duplicate' | 'overlap';

const NONE: readonly DroppedDatagram[] = Object.freeze([]);

const ECN_NOT_ECT = 1;

export class Reassembler {
  private readonly opts: Readonly<Required<ReassemblyOptions>>;
  /** Every pending queue, least recently fed first (a queue moves to the end when a fragment is queued). */
  private readonly lru = new Map<string, Queue>();
  /** Queues by creation time, one map per version (their lifetimes differ), for timeouts. */
  private readonly byAge4 = new Map<string, Queue>();
  private readonly byAge6 = new Map<string, Queue>();
  private used = 0;
  private dropped: DroppedDatagram[] = [];
  private readonly chain = newIpv6Chain();

  constructor(options: ReassemblyOptions = {}) {
    // Field by field, so that an option passed as undefined keeps its default.
    const d = REASSEMBLY_DEFAULTS;
    this.opts = {
      memoryLimit: options.memoryLimit ?? d.memoryLimit,
      ipv4TimeoutUs: options.ipv4TimeoutUs ?? d.ipv4TimeoutUs,
      ipv6TimeoutUs: options.ipv6TimeoutUs ?? d.ipv6TimeoutUs,
      maxDatagramSize: options.maxDatagramSize ?? d.maxDatagramSize,
      overMemory: options.overMemory ?? d.overMemory,
    };
  }

  /** Datagrams waiting for fragments. */
  get pending(): number {
    return this.lru.size;
  }

  /** Bytes of fragments held. */
  get memoryUsed(): number {
    return this.used;
  }

  /**
   * Feeds one IPv4 packet (checked view; the caller has verified the header checksum if it cares).
   * Packets that are not fragments answer 'not-fragment' and are not copied.
   */
  addIpv4(pkt: Ipv4Packet, frame: number, timeUs: number): ReassemblyResult {
    this.dropped = [];
    this.expireInto(timeUs);
    if (!pkt.isFragment) return { kind: 'not-fragment', alsoDropped: this.also() };
    if (pkt.truncated) return this.dropFragment('truncated', frame);
    const key: FragmentKey = { version: 4, src: pkt.src, dst: pkt.dst, protocol: pkt.protocol, identification: pkt.identification };
    const id = `4 ${key.src} ${key.dst} ${key.protocol} ${key.identification}`;
    if (this.refused()) return this.dropFragment('memory-full', frame);
    const q = this.findOrCreate(id, key, timeUs, this.opts.ipv4TimeoutUs, this.byAge4);

    const offset = pkt.fragmentOffset;
    let end = offset + pkt.payloadLength;
    // ip_frag_queue, in its order.
    if (!pkt.moreFragments) {
      // A last fragment that ends before data already held, or a second last fragment with another end.
      if (end < q.len || (q.lastIn && end !== q.len)) return this.dropFragment('bad-fragment', frame);
      q.lastIn = true;
      q.len = end;
    } else {
      end -= end & 7; // a non-last fragment's tail past a multiple of 8 is cut, not an error
      if (end > q.len) {
        if (q.lastIn) return this.dropFragment('bad-fragment', frame);
        q.len = end;
      }
    }
    if (end === offset) return this.dropFragment('bad-fragment', frame);

    const outcome = insertRun(q.runs, offset, end);
    if (outcome === 'overlap') return this.dropQueue(q, 'overlap', frame);
    if (outcome === 'duplicate') return this.dropFragment('duplicate', frame);

    const hl = pkt.headerLength;
    const piece: Piece = { offset, end, data: copyOut(pkt.b, pkt.payloadOffset, end - offset), frame, cost: hl + (end - offset) };
    if (offset === 0) {
      q.firstIn = true;
      q.header = copyOut(pkt.b, pkt.off, hl);
    }
    q.ecnBits |= 1 << pkt.ecn;
    const stored = this.store(q, piece);
    if (stored !== null) return stored;

    if (!(q.firstIn && q.lastIn && q.meat === q.len)) return { kind: 'pending', alsoDropped: this.also() };
    // ip_frag_reasm: the rebuilt datagram (first fragment's header + data) must fit a total length.
    if ((q.header as Uint8Array).length + q.len > this.opts.maxDatagramSize) return this.dropQueue(q, 'too-big', null);
    return this.complete(q, timeUs);
  }

  /**
   * Feeds one IPv6 packet. Packets without a Fragment header answer 'not-fragment'; an atomic fragment
   * completes at once; a packet whose headers do not walk is dropped as 'bad-fragment'.
   */
  addIpv6(pkt: Ipv6Packet, frame: number, timeUs: number): ReassemblyResult {
    this.dropped = [];
    this.expireInto(timeUs);
    const chain = walkIpv6Headers(pkt, this.chain);
    if (typeof chain === 'string') return this.dropFragment('bad-fragment', frame);
    const fh = chain.fragmentHeader;
    if (fh < 0) return { kind: 'not-fragment', alsoDropped: this.also() };
    const b = pkt.b;
    // ipv6_frag_rcv refuses a Fragment header in a jumbogram (RFC 2675 §3).
    if (pkt.payloadLengthField === 0) return this.dropFragment('bad-fragment', frame);
    const offset = ipv6FragmentOffset(b, fh);
    const more = ipv6MoreFragments(b, fh);
    const dataStart = fh + IPV6_FRAGMENT_HEADER_LEN;
    const payloadEnd = pkt.payloadOffset + pkt.payloadLength;
    const key: FragmentKey = { version: 6, src: pkt.src, dst: pkt.dst, identification: ipv6FragmentId(b, fh) };
    if (offset === 0 && !more) {
      if (pkt.truncated) return this.dropFragment('truncated', frame);
      const datagram: ReassembledDatagram = {
        key,
        protocol: ipv6ExtNextHeader(b, fh),
        payload: copyOut(b, dataStart, payloadEnd - dataStart),
        header: copyOut(b, pkt.off, dataStart - pkt.off),
        frames: [frame],
        firstUs: timeUs,
        lastUs: timeUs,
      };
      return { kind: 'complete', datagram, alsoDropped: this.also() };
    }
    if (pkt.truncated) return this.dropFragment('truncated', frame);
    if (this.refused()) return this.dropFragment('memory-full', frame);
    const id = `6 ${key.src} ${key.dst} ${key.identification}`;
    const q = this.findOrCreate(id, key, timeUs, this.opts.ipv6TimeoutUs, this.byAge6);

    const end = offset + (payloadEnd - dataStart);
    // ip6_frag_queue, in its order.
    if (end > this.opts.maxDatagramSize) return this.dropFragment('too-big', frame);
    if (!more) {
      if (end < q.len || (q.lastIn && end !== q.len)) return this.dropQueue(q, 'bad-fragment', frame);
      q.lastIn = true;
      q.len = end;
    } else {
      // RFC 8200 §4.5: a non-last fragment's length must be a multiple of 8 (Parameter Problem).
      if ((end & 7) !== 0) return this.dropFragment('bad-fragment', frame);
      if (end > q.len) {
        if (q.lastIn) return this.dropQueue(q, 'bad-fragment', frame);
        q.len = end;
      }
    }
    if (end === offset) return this.dropQueue(q, 'bad-fragment', frame);

    const outcome = insertRun(q.runs, offset, end);
    if (outcome === 'overlap') return this.dropQueue(q, 'overlap', frame);
    if (outcome === 'duplicate') return this.dropFragment('duplicate', frame);

    const piece: Piece = { offset, end, data: copyOut(b, dataStart, end - offset), frame, cost: end - offset + (dataStart - pkt.off) };
    if (offset === 0) {
      q.firstIn = true;
      q.header = copyOut(b, pkt.off, dataStart - pkt.off);
      q.protocol = ipv6ExtNextHeader(b, fh);
    }
    q.ecnBits |= 1 << pkt.ecn;
    const stored = this.store(q, piece);
    if (stored !== null) return stored;

    if (!(q.firstIn && q.lastIn && q.meat === q.len)) return { kind: 'pending', alsoDropped: this.also() };
    // ip6_frag_reasm: payload length = unfragmentable part after the fixed header + data (the Fragment
    // header itself goes away).
    const unfragmentable = (q.header as Uint8Array).length - IPV6_HEADER_LEN - IPV6_FRAGMENT_HEADER_LEN;
    if (unfragmentable + q.len > this.opts.maxDatagramSize) return this.dropQueue(q, 'too-big', null);
    return this.complete(q, timeUs);
  }

  /** Drops and returns every queue whose time is up at `nowUs` (also done at the start of every add). */
  expire(nowUs: number): DroppedDatagram[] {
    this.dropped = [];
    this.expireInto(nowUs);
    return this.dropped;
  }

  /** Drops and returns every pending datagram ('flushed'), e.g. at the end of a capture. */
  flush(): DroppedDatagram[] {
    const out: DroppedDatagram[] = [];
    for (const q of [...this.lru.values()]) {
      this.remove(q);
      out.push({ key: q.key, reason: 'flushed', frames: framesOf(q) });
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------------

  private also(): readonly DroppedDatagram[] {
    return this.dropped.length === 0 ? NONE : this.dropped;
  }

  private dropFragment(reason: FragmentDropReason, frame: number): ReassemblyResult {
    return { kind: 'dropped', reason, datagram: false, frames: [frame], alsoDropped: this.also() };
  }

  /** Discards `q` because of a fragment (`frame`, or null when the drop came at completion). */
  private dropQueue(q: Queue, reason: FragmentDropReason, frame: number | null): ReassemblyResult {
    this.remove(q);
    const frames = framesOf(q);
    if (frame !== null) frames.push(frame);
    return { kind: 'dropped', reason, datagram: true, frames, alsoDropped: this.also() };
  }

  private refused(): boolean {
    // inet_frag_find() (Linux ≥ 4.17): no queue at all while usage is over the threshold.
    return this.opts.overMemory === 'refuse' && this.used > this.opts.memoryLimit;
  }

  private findOrCreate(id: string, key: FragmentKey, timeUs: number, timeoutUs: number, byAge: Map<string, Queue>): Queue {
    const hit = this.lru.get(id);
    if (hit !== undefined) return hit;
    const q: Queue = {
      id,
      key,
      deadlineUs: timeUs + timeoutUs,
      firstUs: timeUs,
      pieces: [],
      runs: [],
      len: 0,
      meat: 0,
      firstIn: false,
      lastIn: false,
      ecnBits: 0,
      header: null,
      protocol: key.version === 4 ? key.protocol : -1,
      cost: 0,
    };
    this.lru.set(id, q);
    byAge.set(id, q);
    return q;
  }

  /**
   * Queues `piece` in `q`, making room first. Returns null when stored, or the result when the queue itself
   * had to go for memory.
   */
  private store(q: Queue, piece: Piece): ReassemblyResult | null {
    if (this.opts.overMemory === 'evict-oldest' && this.used + piece.cost > this.opts.memoryLimit) {
      for (const other of this.lru.values()) {
        if (this.used + piece.cost <= this.opts.memoryLimit) break;
        if (other === q) continue;
        this.remove(other);
        this.dropped.push({ key: other.key, reason: 'evicted-memory', frames: framesOf(other) });
      }
      if (this.used + piece.cost > this.opts.memoryLimit) return this.dropQueue(q, 'evicted-memory', piece.frame);
    }
    q.pieces.push(piece);
    q.meat += piece.end - piece.offset;
    q.cost += piece.cost;
    this.used += piece.cost;
    // Most recently fed last, as Linux's evictor list did (list_move_tail on every queued fragment).
    this.lru.delete(q.id);
    this.lru.set(q.id, q);
    return null;
  }

  private complete(q: Queue, timeUs: number): ReassemblyResult {
    // RFC 3168 §5.3 as ip_frag_ecn_table encodes it: Not-ECT mixed with any ECN-capable codepoint.
    if ((q.ecnBits & ECN_NOT_ECT) !== 0 && (q.ecnBits & ~ECN_NOT_ECT) !== 0) return this.dropQueue(q, 'ecn-mismatch', null);
    this.remove(q);
    q.pieces.sort((x, y) => x.offset - y.offset);
    const payload = new Uint8Array(q.len);
    for (const p of q.pieces) payload.set(p.data, p.offset);
    const datagram: ReassembledDatagram = {
      key: q.key,
      protocol: q.protocol,
      payload,
      header: q.header as Uint8Array,
      frames: q.pieces.map((p) => p.frame),
      firstUs: q.firstUs,
      lastUs: timeUs,
    };
    return { kind: 'complete', datagram, alsoDropped: this.also() };
  }

  private remove(q: Queue): void {
    this.lru.delete(q.id);
    (q.key.version === 4 ? this.byAge4 : this.byAge6).delete(q.id);
    this.used -= q.cost;
  }

  private expireInto(nowUs: number): void {
    for (const byAge of [this.byAge4, this.byAge6]) {
      for (const q of byAge.values()) {
        if (q.deadlineUs > nowUs) break;
        this.remove(q);
        this.dropped.push({ key: q.key, reason: 'timeout', frames: framesOf(q) });
      }
    }
  }
}

function framesOf(q: Queue): number[] {
  return [...q.pieces].sort((x, y) => x.offset - y.offset).map((p) => p.frame);
}

/**
 * Linux's inet_frag_queue_insert over `runs` (sorted, disjoint): append at the tail (merging with the last
 * run when contiguous), or find the place among earlier runs; a fragment inside one run is a duplicate,
 * one touching a run otherwise is an overlap. Inserts on 'ok'.
 */
function insertRun(runs: Run[], offset: number, end: number): InsertOutcome {
  const last = runs[runs.length - 1];
  if (last === undefined) {
    runs.push({ start: offset, end });
    return 'ok';
  }
  if (last.end < end) {
    // The common case: the fragment goes at the end.
    if (offset < last.end) return 'overlap';
    if (offset === last.end) last.end = end;
    else runs.push({ start: offset, end });
    return 'ok';
  }
  // Binary search; the fragment cannot become the last one (handled above).
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid] as Run;
    if (end <= r.start) hi = mid;
    else if (offset >= r.end) lo = mid + 1;
    else return offset >= r.start && end <= r.end ? 'duplicate' : 'overlap';
  }
  runs.splice(lo, 0, { start: offset, end });
  return 'ok';
}
