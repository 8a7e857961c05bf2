/**
 * The byte queues of one connection: a ring for the send buffer (bytes from SND.UNA on, sent or not: the
 * retransmission queue is the front of it) and for in-order received data waiting for RECEIVE, and the
 * out-of-order queue with the SACK blocks it implies (RFC 2018 §4).
 *
 * Rings start empty and grow by doubling up to their capacity, so a thousand idle connections do not
 * hold a thousand 64 KiB buffers.
 */
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMax, seqSub } from '../wire/seq.js';

export class ByteRing {
  private buf = new Uint8Array(0);
  private head = 0;
  /** Bytes stored. */
  length = 0;

  constructor(public capacity: number) {}

  get free(): number {
    return Math.max(0, this.capacity - this.length);
  }

  /** Appends up to `free` bytes of `src`; returns how many were taken. */
  write(src: Uint8Array): number {
    const n = Math.min(src.length, this.free);
    if (n === 0) return 0;
    this.reserve(this.length + n);
    const cap = this.buf.length;
    const tail = (this.head + this.length) % cap;
    const first = Math.min(n, cap - tail);
    this.buf.set(src.subarray(0, first), tail);
    if (first < n) this.buf.set(src.subarray(first, n), 0);
    this.length += n;
    return n;
  }

  /** A copy of `len` bytes starting `offset` bytes into the queue. */
  peek(offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const cap = this.buf.length;
    const start = (this.head + offset) % (cap || 1);
    const first = Math.min(len, cap - start);
    out.set(this.buf.subarray(start, start + first), 0);
    if (first < len) out.set(this.buf.subarray(0, len - first), first);
    return out;
  }

  /** Removes and returns up to `max` bytes from the front. */
  read(max: number): Uint8Array {
    const n = Math.min(max, this.length);
    const out = this.peek(0, n);
    this.discard(n);
    return out;
  }

  /** Drops `n` bytes from the front. */
  discard(n: number): void {
    const k = Math.min(n, this.length);
    if (k === 0) return;
    this.head = (this.head + k) % this.buf.length;
    this.length -= k;
    if (this.length === 0) this.head = 0;
  }

  private reserve(need: number): void {
    if (need <= this.buf.length) return;
    const size = Math.min(Math.max(need, this.buf.length * 2, 2048), Math.max(this.capacity, need));
    const next = new Uint8Array(size);
    if (this.length > 0) next.set(this.peek(0, this.length), 0);
    this.buf = next;
    this.head = 0;
  }
}

/** One contiguous run of out-of-order data, [start, start + data.length), a FIN after it if `fin`. */
interface OooBlock {
  start: number;
  data: Uint8Array;
  fin: boolean;
  /** Order of the last arrival that touched this block: the most recent is reported first. */
  stamp: number;
}

/**
 * Segments that arrived beyond RCV.NXT, kept merged into non-overlapping blocks sorted by sequence number.
 * RFC 9293 §3.10.7.4 seventh: segments "with higher beginning sequence numbers ... may be held for later
 * processing".
 */
export class OutOfOrderQueue {
  private blocks: OooBlock[] = [];
  private stamp = 0;
  /** Bytes held. */
  bytes = 0;

  get empty(): boolean {
    return this.blocks.length === 0;
  }

  clear(): void {
    this.blocks = [];
    this.bytes = 0;
  }

  /** Adds data at `seq` (after RCV.NXT), merging with the blocks it overlaps or touches. */
  insert(seq: number, data: Uint8Array, fin: boolean): void {
    let start = seq;
    let end = seqAdd(seq, data.length);
    let isFin = fin;
    const touching: OooBlock[] = [];
    const rest: OooBlock[] = [];
    for (const b of this.blocks) {
      const bEnd = seqAdd(b.start, b.data.length);
      if (seqLe(b.start, end) && seqLe(start, bEnd)) touching.push(b);
      else rest.push(b);
    }
    if (touching.length === 0) {
      this.blocks = rest;
      this.add({ start, data: data.slice(), fin, stamp: ++this.stamp });
      return;
    }
    for (const b of touching) {
      if (seqLt(b.start, start)) start = b.start;
      end = seqMax(end, seqAdd(b.start, b.data.length));
      isFin = isFin || b.fin;
    }
    const merged = new Uint8Array(seqSub(end, start));
    for (const b of touching) merged.set(b.data, seqSub(b.start, start));
    merged.set(data, seqSub(seq, start));
    this.blocks = rest;
    this.add({ start, data: merged, fin: isFin, stamp: ++this.stamp });
  }

  /**
   * Removes and returns the block that continues the stream at `rcvNxt` (its part before `rcvNxt`
   * trimmed), or null. Blocks wholly before `rcvNxt` are discarded on the way.
   */
  takeAt(rcvNxt: number): { data: Uint8Array; fin: boolean } | null {
    while (this.blocks.length > 0) {
      const b = this.blocks[0] as OooBlock;
      const bEnd = seqAdd(b.start, b.data.length);
      if (seqGt(b.start, rcvNxt)) return null;
      this.blocks.shift();
      this.bytes -= b.data.length;
      if (seqLt(bEnd, rcvNxt) || (bEnd === rcvNxt && !b.fin)) continue;
      return { data: b.data.subarray(seqSub(rcvNxt, b.start)), fin: b.fin };
    }
    return null;
  }

  /**
   * SACK blocks (RFC 2018 §4): the block holding the most recent arrival first, then the others by
   * recency, at most `max`. A block ending in a FIN reports only its data.
   */
  sackBlocks(max: number): Array<[number, number]> {
    const sorted = this.blocks.slice().sort((a, b) => b.stamp - a.stamp);
    const out: Array<[number, number]> = [];
    for (const b of sorted) {
      if (out.length >= max) break;
      if (b.data.length > 0) out.push([b.start, seqAdd(b.start, b.data.length)]);
    }
    return out;
  }

  /** The highest right edge of any block (Linux accepts a RST there, tcp_validate_incoming). */
  highestEdge(): number | null {
    if (this.blocks.length === 0) return null;
    let edge = seqAdd((this.blocks[0] as OooBlock).start, (this.blocks[0] as OooBlock).data.length);
    for (const b of this.blocks) edge = seqMax(edge, seqAdd(b.start, b.data.length));
    return edge;
  }

  private add(b: OooBlock): void {
    let i = 0;
    while (i < this.blocks.length && seqGe(b.start, (this.blocks[i] as OooBlock).start)) i++;
    this.blocks.splice(i, 0, b);
    this.bytes = 0;
    for (const x of this.blocks) this.bytes += x.data.length;
  }
}
