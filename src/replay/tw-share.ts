/**
 * The TIME-WAIT bound across the shards of a parallel replay. A replay holds at most `maxTimeWait`
 * TIME-WAIT records at once (Linux tcp_max_tw_buckets; past it an end goes straight to CLOSED),
 * counted over every connection of the capture: whether an end of one shard gets its record depends
 * on what the other shards hold at that frame. Deciding that on the spot would make a shard wait for
 * the others to reach the frame at every admission near the bound (they would run in lockstep), so:
 *
 * - a shard asks (`attempt`: frame, clock, expiry) and goes on with the end in TIME-WAIT; the
 *   connection settles the answer before anything reads it again (its next frame, its report, the
 *   socket tables: tracker.ts `settle`), by when the answer is nearly always in;
 * - the arbiter (`TimeWaitArbiter`, in the main thread) takes every shard's admissions and early
 *   removals (a RST or a reuse ending a record; expiry it works out from the clock itself) in frame
 *   order, once every shard is past the frame before, and counts exactly as one table would.
 *
 * Shared memory: per shard an event ring (admission or removal: kind, frame, number; clock and expiry
 * as doubles), its progress (the last frame it finished), and a ring of answers. Frame numbers and
 * counters are Int32 compared modulo 2^32 (shards stay within the rings of each other).
 */

/** Events per shard ring (a power of two). */
const RING = 1 << 14;
/** Answers per shard ring (a power of two): the arbiter runs at most this far ahead of a shard's reading. */
const ANSWERS = 1 << 14;
/** Busy polls before a shard sleeps waiting (about a microsecond). */
const SPINS = 200;
/** A sleeping shard looks again after this long even unwoken. */
const WAIT_MS = 20;
/** The arbiter looks again this often while admissions wait for a shard to catch up (ms). */
const POLL_MS = 1;

const EV_ATTEMPT = 1;
const EV_GONE = 2;

// Int32 words per shard.
const PROGRESS = 0;
const DONE = 1;
/** Events written / taken by the arbiter. */
const HEAD = 2;
const TAIL = 3;
/** Admissions asked / answered / answers read by the shard. */
const ASKED = 4;
const ANSWERED = 5;
const READ = 6;
/** The shard sleeps waiting for an answer. */
const WAITING = 7;
const SHARD_WORDS = 8;
// Global words after the shards'.
const BELL = 0;
const GLOBAL_WORDS = 2;

/** Atomics.waitAsync (Node 16 on; typed in the ES2024 lib, newer than this project's). */
const AtomicsAsync = Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
};

function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** The shared memory of `shards` shards: Int32 words and the doubles (clock, expiry) of the rings. */
export interface TimeWaitMemory {
  shards: number;
  ints: SharedArrayBuffer;
  doubles: SharedArrayBuffer;
}

export function timeWaitMemory(shards: number): TimeWaitMemory {
  const ints = shards * SHARD_WORDS + GLOBAL_WORDS + shards * RING * 3 + shards * ANSWERS;
  return { shards, ints: new SharedArrayBuffer(4 * ints), doubles: new SharedArrayBuffer(8 * shards * RING * 2) };
}

class Layout {
  readonly a: Int32Array;
  readonly d: Float64Array;
  readonly n: number;
  constructor(m: TimeWaitMemory) {
    this.a = new Int32Array(m.ints);
    this.d = new Float64Array(m.doubles);
    this.n = m.shards;
  }
  word(s: number, w: number): number {
    return s * SHARD_WORDS + w;
  }
  global(w: number): number {
    return this.n * SHARD_WORDS + w;
  }
  /** Int32 index of event `pos` of shard s (kind, frame, number); its doubles at event(...) / 3 * 2 in `d`. */
  event(s: number, pos: number): number {
    return this.n * SHARD_WORDS + GLOBAL_WORDS + (s * RING + (pos & (RING - 1))) * 3;
  }
  eventDoubles(s: number, pos: number): number {
    return (s * RING + (pos & (RING - 1))) * 2;
  }
  answer(s: number, seq: number): number {
    return this.n * SHARD_WORDS + GLOBAL_WORDS + this.n * RING * 3 + s * ANSWERS + (seq & (ANSWERS - 1));
  }
}

/** A shard's side: asks, reports early removals, reads answers. */
export class TimeWaitShard {
  private readonly m: Layout;
  private asked = 0;
  private read = 0;
  /** Answers read so far, by admission number: 1 admitted, 2 turned away. */
  private answers = new Uint8Array(1024);

  constructor(
    memory: TimeWaitMemory,
    private readonly self: number,
  ) {
    this.m = new Layout(memory);
  }

  /** Asks for a record during `frame` (clock `now`, expiring at `until`); returns the admission's number. */
  attempt(frame: number, now: number, until: number): number {
    const seq = this.asked;
    this.push(EV_ATTEMPT, frame, seq, now, until);
    this.asked = (seq + 1) | 0;
    Atomics.store(this.m.a, this.m.word(this.self, ASKED), this.asked);
    return seq;
  }

  /** Record `seq` ended early during `frame`. */
  gone(frame: number, seq: number): void {
    this.push(EV_GONE, frame, seq, 0, 0);
  }

  private push(kind: number, frame: number, seq: number, now: number, until: number): void {
    const { a, d } = this.m;
    const hi = this.m.word(this.self, HEAD);
    const head = a[hi] as number;
    // A full ring: the arbiter waits for a shard behind this one, which never waits for this one.
    for (let i = 0; ((head - Atomics.load(a, this.m.word(this.self, TAIL))) | 0) >= RING; i++) {
      this.pull();
      if (i >= SPINS) Atomics.wait(a, this.m.word(this.self, TAIL), Atomics.load(a, this.m.word(this.self, TAIL)), WAIT_MS);
    }
    const at = this.m.event(this.self, head);
    a[at] = kind;
    a[at + 1] = frame;
    a[at + 2] = seq;
    const ad = this.m.eventDoubles(this.self, head);
    d[ad] = now;
    d[ad + 1] = until;
    Atomics.store(a, hi, (head + 1) | 0);
  }

  /** Frame `frame` is done here (every frame, in order). */
  progress(frame: number): void {
    Atomics.store(this.m.a, this.m.word(this.self, PROGRESS), frame);
    if (Atomics.load(this.m.a, this.m.word(this.self, ANSWERED)) !== this.read) this.pull();
  }

  /** Reads the answers in. */
  private pull(): void {
    const a = this.m.a;
    const answered = Atomics.load(a, this.m.word(this.self, ANSWERED));
    while (this.read !== answered) {
      const seq = this.read;
      if (seq >= this.answers.length) {
        const more = new Uint8Array(this.answers.length * 2);
        more.set(this.answers);
        this.answers = more;
      }
      this.answers[seq] = a[this.m.answer(this.self, seq)] as number;
      this.read = (seq + 1) | 0;
    }
    Atomics.store(a, this.m.word(this.self, READ), this.read);
  }

  /** Whether admission `seq` got its record; waits for the arbiter when it has not answered yet. */
  decision(seq: number): boolean {
    const a = this.m.a;
    for (let i = 0; !before(seq, this.read); i++) {
      this.pull();
      if (!before(seq, this.read) && i >= SPINS) {
        const w = this.m.word(this.self, ANSWERED);
        const seen = Atomics.load(a, w);
        Atomics.store(a, this.m.word(this.self, WAITING), 1);
        Atomics.add(a, this.m.global(BELL), 1);
        Atomics.notify(a, this.m.global(BELL));
        Atomics.wait(a, w, seen, WAIT_MS);
      }
    }
    Atomics.store(a, this.m.word(this.self, WAITING), 0);
    return this.answers[seq] === 1;
  }

  /** This shard has read its whole file (or failed): nobody waits for its progress any more. */
  finish(): void {
    const a = this.m.a;
    Atomics.store(a, this.m.word(this.self, DONE), 1);
    Atomics.add(a, this.m.global(BELL), 1);
    Atomics.notify(a, this.m.global(BELL));
  }

  /** Reads every answer still due (the arbiter writes one only where there is room to read it). */
  drain(): void {
    if (this.asked !== 0) this.decision((this.asked - 1) | 0);
  }
}

/** The main thread's side: every shard's admissions and early removals in frame order, counted as one table. */
export class TimeWaitArbiter {
  private readonly m: Layout;
  private count = 0;
  /** Admitted records in admission order (expiries are then in order too): expiry, and key (shard, number). */
  private fifoUntil: number[] = [];
  private fifoKey: number[] = [];
  private fifoHead = 0;
  /** Keys of records that ended early (their FIFO entry no longer counts). */
  private readonly gone = new Set<number>();
  /** Keys of admitted records still counted. */
  private readonly alive = new Set<number>();

  constructor(
    memory: TimeWaitMemory,
    private readonly max: number,
  ) {
    this.m = new Layout(memory);
  }

  private key(s: number, seq: number): number {
    return seq * this.m.n + s;
  }

  /** Handles every event it can; true when it handled one. */
  step(): boolean {
    const { a, d, n } = this.m;
    let did = false;
    for (;;) {
      // The next event in frame order among the shards' rings.
      let best = -1;
      let bestFrame = 0;
      for (let s = 0; s < n; s++) {
        const tail = a[this.m.word(s, TAIL)] as number;
        if (tail === Atomics.load(a, this.m.word(s, HEAD))) continue;
        const f = a[this.m.event(s, tail) + 1] as number;
        if (best < 0 || before(f, bestFrame)) {
          best = s;
          bestFrame = f;
        }
      }
      if (best < 0) return did;
      // Every other shard must be past the frame before: then nothing earlier can still come.
      for (let s = 0; s < n; s++) {
        if (s === best || Atomics.load(a, this.m.word(s, DONE)) === 1) continue;
        if (before(Atomics.load(a, this.m.word(s, PROGRESS)), (bestFrame - 1) | 0)) return did;
      }
      const tw = this.m.word(best, TAIL);
      const tail = a[tw] as number;
      const at = this.m.event(best, tail);
      const kind = a[at] as number;
      const seq = a[at + 2] as number;
      if (kind === EV_ATTEMPT) {
        // Room for the answer: the shard reads them as it goes.
        if (((seq - Atomics.load(a, this.m.word(best, READ))) | 0) >= ANSWERS) return did;
        const ad = this.m.eventDoubles(best, tail);
        this.answer(best, seq, d[ad] as number, d[ad + 1] as number);
      } else {
        const k = this.key(best, seq);
        if (this.alive.delete(k)) {
          this.gone.add(k);
          this.count--;
        }
      }
      Atomics.store(a, tw, (tail + 1) | 0);
      Atomics.notify(a, tw);
      did = true;
    }
  }

  private answer(s: number, seq: number, now: number, until: number): void {
    // Records whose time is up by this frame's clock are gone (the tracker expires them as the clock moves).
    const fu = this.fifoUntil;
    while (this.fifoHead < fu.length && (fu[this.fifoHead] as number) <= now) {
      const k = this.fifoKey[this.fifoHead] as number;
      if (!this.gone.delete(k)) {
        this.alive.delete(k);
        this.count--;
      }
      this.fifoHead++;
    }
    if (this.fifoHead > 4096 && this.fifoHead * 2 > fu.length) {
      this.fifoUntil = fu.slice(this.fifoHead);
      this.fifoKey = this.fifoKey.slice(this.fifoHead);
      this.fifoHead = 0;
    }
    const admit = this.count < this.max;
    if (admit) {
      const k = this.key(s, seq);
      this.count++;
      this.fifoUntil.push(until);
      this.fifoKey.push(k);
      this.alive.add(k);
    }
    const a = this.m.a;
    a[this.m.answer(s, seq)] = admit ? 1 : 2;
    const w = this.m.word(s, ANSWERED);
    Atomics.store(a, w, (seq + 1) | 0);
    if (Atomics.load(a, this.m.word(s, WAITING)) === 1) Atomics.notify(a, w);
  }

  private finished(): boolean {
    const a = this.m.a;
    for (let s = 0; s < this.m.n; s++) {
      if (Atomics.load(a, this.m.word(s, DONE)) !== 1) return false;
      if (Atomics.load(a, this.m.word(s, TAIL)) !== Atomics.load(a, this.m.word(s, HEAD))) return false;
    }
    return true;
  }

  /** Runs until every shard is done and every event handled; `stopped()` ends it early (a shard failed). */
  async run(stopped: () => boolean): Promise<void> {
    const a = this.m.a;
    const bell = this.m.global(BELL);
    for (;;) {
      const rang = Atomics.load(a, bell);
      this.step();
      if (this.finished() || stopped()) return;
      // Sleep until a shard waits for an answer, or look again shortly: admissions may be waiting for a
      // shard to catch up, and asking does not ring (that would wake this thread at every admission).
      const w = AtomicsAsync.waitAsync(a, bell, rang, POLL_MS);
      if (w.async) await w.value;
      else await Promise.resolve();
    }
  }
}
