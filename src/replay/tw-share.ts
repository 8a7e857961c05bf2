/**
 * The TIME-WAIT bound across the shards of a parallel replay. The replay holds at most `maxTimeWait`
 * TIME-WAIT records (Linux tcp_max_tw_buckets; past it an end goes straight to CLOSED), counted over
 * every connection of the capture, so whether an end of one shard gets its record depends on how many
 * the other shards hold at that frame. Unlike descriptors (renumbered by the merge afterwards), this
 * changes what the shard does next, so it is settled while the shards run, through shared memory:
 *
 * - each shard publishes the frame it has finished (`progress`) and, in a ring, every change of its
 *   record count as (frame, count) — at most one entry a frame, its count after the frame;
 * - a shard about to add a record during frame F needs every other shard's count after F (those
 *   shards only expire records at F: the frame is not theirs). A shard already past F has it in its
 *   ring. For one behind, the count can grow by at most two records a frame (each end of the frame's
 *   connection), so its last published count plus twice the frames it is behind bounds it; only when
 *   that bound could reach the limit does the shard wait for the other to reach F.
 * Far below the limit nobody waits; at the limit the shards run in step, each waiting only while it is
 * ahead, so they never wait for each other at once. A shard's ring is read by every other shard; a
 * reader consumes entries up to its own progress as it goes (it never asks about an earlier frame), and
 * a writer whose ring is full waits for the slowest reader, who is then behind it and never waiting.
 *
 * Frame numbers and ring positions are Int32 compared modulo 2^32 (shards stay within 2^31 frames of
 * each other: the rings are far smaller).
 */

/** Entries per shard ring (a power of two). */
const RING = 1 << 16;
/** Frames between a reader's catch-ups on rings it has not needed. */
const CATCH_UP_EVERY = 1024;
/**
 * Busy polls before a wait sleeps on the futex: about a microsecond, what a shard a frame or two behind
 * needs. Longer spinning steals the core the other shard needs when the machine has few.
 */
const SPINS = 200;
/** A sleeping wait looks again after this long even without a wake-up (none is lost, but be safe). */
const WAIT_MS = 20;

// Int32 words of the header, per shard: progress, done, head (entries written), waiting-for frame.
const PROGRESS = 0;
const DONE = 1;
const HEAD = 2;
const WAITING = 3;
const HEADER = 4;

function after(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export class TimeWaitShare {
  private readonly a: Int32Array;
  private readonly n: number;
  /** Per other shard: the next ring position to read, and the count as of the last entry read. */
  private readonly cursor: Int32Array;
  private readonly base: Int32Array;
  private published = 0;
  private lastFrame = 0;
  private sinceCatchUp = 0;

  /** Shared memory for `shards` shards. */
  static allocate(shards: number): SharedArrayBuffer {
    // Header, then each shard's ring of (frame, count), then each reader's cursor on each ring.
    return new SharedArrayBuffer(4 * (shards * HEADER + shards * RING * 2 + shards * shards));
  }

  constructor(
    sab: SharedArrayBuffer,
    shards: number,
    private readonly self: number,
    private readonly max: number,
  ) {
    this.a = new Int32Array(sab);
    this.n = shards;
    this.cursor = new Int32Array(shards);
    this.base = new Int32Array(shards);
  }

  private ringAt(s: number, pos: number): number {
    return this.n * HEADER + (s * RING + (pos & (RING - 1))) * 2;
  }

  /** Where reader r's cursor on ring s is published (for the writer's room check). */
  private cursorAt(r: number, s: number): number {
    return this.n * HEADER + this.n * RING * 2 + r * this.n + s;
  }

  /** Frame `frame` is done here and this shard holds `count` records. */
  publish(frame: number, count: number): void {
    const a = this.a;
    const h = this.self * HEADER;
    if (count !== this.published) {
      const head = a[h + HEAD] as number;
      if (this.n > 1) this.waitForRoom(head);
      const at = this.ringAt(this.self, head);
      a[at] = frame;
      a[at + 1] = count;
      Atomics.store(a, h + HEAD, (head + 1) | 0);
      this.published = count;
    }
    Atomics.store(a, h + PROGRESS, frame);
    this.lastFrame = frame;
    const waiting = Atomics.load(a, h + WAITING);
    if (waiting !== 0 && !after(waiting, frame)) {
      Atomics.store(a, h + WAITING, 0);
      Atomics.notify(a, h + PROGRESS);
    }
    if (++this.sinceCatchUp >= CATCH_UP_EVERY) {
      this.sinceCatchUp = 0;
      for (let s = 0; s < this.n; s++) if (s !== this.self) this.consume(s, frame);
    }
  }

  /** This shard is done: nobody waits for it again. */
  finish(): void {
    const h = this.self * HEADER;
    // Done: nobody waits for its progress, and its cursors hold back no writer.
    Atomics.store(this.a, h + DONE, 1);
    Atomics.notify(this.a, h + PROGRESS);
  }

  /** Whether the table is full for a record added during `frame`, this shard holding `own` now. */
  full(frame: number, own: number): boolean {
    if (own >= this.max) return true;
    const a = this.a;
    let certain = own;
    let bound = own;
    const behind: number[] = [];
    for (let s = 0; s < this.n; s++) {
      if (s === this.self) continue;
      const h = s * HEADER;
      const p = Atomics.load(a, h + PROGRESS);
      if (Atomics.load(a, h + DONE) === 1 || !after(frame, p)) {
        const c = this.consume(s, frame);
        certain += c;
        bound += c;
      } else {
        const c = this.consume(s, p);
        bound += c + 2 * ((frame - p) | 0);
        behind.push(s);
      }
    }
    if (bound < this.max) return false;
    if (certain >= this.max) return true;
    for (const s of behind) {
      this.waitFor(s, frame);
      certain += this.consume(s, frame);
    }
    return certain >= this.max;
  }

  /** Reads ring s up to `frame`; returns that shard's count after it. */
  private consume(s: number, frame: number): number {
    const a = this.a;
    const head = Atomics.load(a, s * HEADER + HEAD);
    let pos = this.cursor[s] as number;
    while (pos !== head) {
      const at = this.ringAt(s, pos);
      if (after(a[at] as number, frame)) break;
      this.base[s] = a[at + 1] as number;
      pos = (pos + 1) | 0;
    }
    if (pos !== this.cursor[s]) {
      this.cursor[s] = pos;
      Atomics.store(a, this.cursorAt(this.self, s), pos);
    }
    return this.base[s] as number;
  }

  /** Until shard s has finished `frame` (or everything). */
  private waitFor(s: number, frame: number): void {
    const a = this.a;
    const h = s * HEADER;
    for (let i = 0; ; i++) {
      const p = Atomics.load(a, h + PROGRESS);
      if (!after(frame, p) || Atomics.load(a, h + DONE) === 1) return;
      if (i < SPINS) continue;
      // Ask shard s to wake its waiters once it has done the smallest frame any of them waits for.
      for (;;) {
        const w = Atomics.load(a, h + WAITING);
        if (w !== 0 && !after(w, frame)) break;
        if (Atomics.compareExchange(a, h + WAITING, w, frame) === w) break;
      }
      // Progress moved since it was read: the wait returns at once ('not-equal').
      Atomics.wait(a, h + PROGRESS, p, WAIT_MS);
    }
  }

  /** Until every reader has read ring entries far enough back that `head` has a free slot. */
  private waitForRoom(head: number): void {
    const a = this.a;
    for (let i = 0; ; i++) {
      let room = true;
      for (let r = 0; r < this.n && room; r++) {
        if (r === this.self || Atomics.load(a, r * HEADER + DONE) === 1) continue;
        if (((head - Atomics.load(a, this.cursorAt(r, this.self))) | 0) >= RING) room = false;
      }
      if (room) return;
      // The readers are behind and never wait for this shard then; they catch up as they go.
      if (i >= SPINS) Atomics.wait(a, this.self * HEADER + PROGRESS, this.lastFrame, WAIT_MS);
    }
  }
}
