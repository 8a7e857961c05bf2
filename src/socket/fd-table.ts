/**
 * The descriptor table of one Host: what the program sees (numbers) in front of what the stack
 * sees (sockets). POSIX: socket(), accept() and dup() return "the lowest numbered file descriptor
 * not currently open"; 0, 1 and 2 are taken by stdio, so a fresh process gets 3 first. A
 * descriptor number must stay below RLIMIT_NOFILE, otherwise the call fails with EMFILE; Linux's
 * default soft limit is 1024.
 *
 * Numbers at or above the high-water mark have never been handed out; numbers below it that were
 * closed (holes) are bits of a two-level bitmap: a bit per number in `holes`, and a summary bit per
 * `holes` word that has any bit set. So the lowest free number is the lowest hole if there is one
 * (every hole is below the mark), else the mark, and finding the lowest hole is a count-trailing-zeros
 * on a summary word and one on a holes word, with no sifting and no memory beyond a bit per number:
 * a server that holds a thousand accepted descriptors closes and reopens them in any order, and a
 * heap of holes cost a sift per close and per accept. A summary word covers 1,024 numbers, so the
 * search for its first non-zero summary word starts at a lower bound kept as holes come and go.
 */
import type { Result } from './errno.js';

export const FIRST_FD = 3;
/** Linux's default soft RLIMIT_NOFILE. */
export const DEFAULT_FD_LIMIT = 1024;

export interface FdTableOptions {
  /** RLIMIT_NOFILE: every descriptor is below it. Default 1024. */
  limit?: number;
  /** First number handed out (numbers below it count as open, like stdio). Default 3. */
  first?: number;
}

export class FdTable<T extends object> {
  /**
   * Descriptor `first`'s value: in a field, not the array, so a table with one descriptor (a client
   * host's) is read and written without reaching the array's header and storage, cold memory by the
   * time a connection closes. `slots[first]` stays empty.
   */
  private atFirst: T | undefined = undefined;
  private readonly slots: Array<T | undefined> = [];
  /** Bit (fd & 31) of word fd >>> 5: fd is below the mark and closed. Empty until the first hole. */
  private holes: Int32Array = NO_WORDS;
  /** Bit (w & 31) of word w >>> 5: holes[w] is not zero. */
  private summary: Int32Array = NO_WORDS;
  private nHoles = 0;
  /** While there are holes, every summary word below this one is zero (where the search starts). */
  private lowSummary = 0;
  private mark: number;
  private count = 0;
  private max: number;
  readonly first: number;

  constructor(options: FdTableOptions = {}) {
    this.first = options.first ?? FIRST_FD;
    this.max = options.limit ?? DEFAULT_FD_LIMIT;
    if (!Number.isInteger(this.first) || this.first < 0) throw new RangeError('FdTable: first must be a non-negative integer');
    if (!Number.isInteger(this.max) || this.max < 0) throw new RangeError('FdTable: limit must be a non-negative integer');
    this.mark = this.first;
  }

  /** RLIMIT_NOFILE. Lowering it closes nothing (as setrlimit); it only stops new numbers at or above it. */
  get limit(): number {
    return this.max;
  }

  set limit(n: number) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('FdTable: limit must be a non-negative integer');
    this.max = n;
  }

  get size(): number {
    return this.count;
  }

  /** The number the next alloc() would return, limit aside. */
  lowestFree(): number {
    return this.nHoles > 0 ? this.lowestHole() : this.mark;
  }

  /** The lowest closed number below the mark; only when there is one. */
  private lowestHole(): number {
    const summary = this.summary;
    let s = this.lowSummary;
    while (summary[s] === 0) s++;
    this.lowSummary = s;
    const w = (s << 5) | lowestBit(summary[s] as number);
    return (w << 5) | lowestBit(this.holes[w] as number);
  }

  /** Open a descriptor for value: the lowest free number, or 'EMFILE' when that number reaches the limit. */
  alloc(value: T): Result<number> {
    if (this.nHoles === 0) {
      // No holes: the mark is the lowest free number (a client host's one descriptor, every time).
      const fd = this.mark;
      if (fd >= this.max) return 'EMFILE';
      this.mark++;
      this.put(fd, value);
      this.count++;
      return fd;
    }
    const fd = this.lowestHole();
    if (fd >= this.max) return 'EMFILE';
    const w = fd >>> 5;
    const left = (this.holes[w] as number) & ~(1 << (fd & 31));
    this.holes[w] = left;
    if (left === 0) this.summary[w >>> 5] = (this.summary[w >>> 5] as number) & ~(1 << (w & 31));
    this.nHoles--;
    this.put(fd, value);
    this.count++;
    return fd;
  }

  get(fd: number): T | undefined {
    if (fd === this.first) return this.atFirst;
    return fd > this.first && fd < this.slots.length ? this.slots[fd] : undefined;
  }

  private put(fd: number, value: T | undefined): void {
    if (fd === this.first) this.atFirst = value;
    else this.slots[fd] = value;
  }

  has(fd: number): boolean {
    return this.get(fd) !== undefined;
  }

  /** The value behind fd, or 'EBADF' when fd is not open. */
  lookup(fd: number): Result<T> {
    return this.get(fd) ?? 'EBADF';
  }

  /** Point an open descriptor at another value (an accepted child replacing a placeholder, say). */
  replace(fd: number, value: T): Result<T> {
    const old = this.get(fd);
    if (old === undefined) return 'EBADF';
    this.put(fd, value);
    return old;
  }

  /** Close fd, making its number the next to be reused if it is the lowest; returns what it held. */
  close(fd: number): Result<T> {
    const old = this.get(fd);
    if (old === undefined) return 'EBADF';
    this.put(fd, undefined);
    this.count--;
    // The highest number handed out: the mark steps back instead (the same free set, every hole is
    // still below it, and the bitmap is left alone: a client host opens and closes one descriptor, over
    // and over).
    if (fd === this.mark - 1) {
      this.mark = fd;
      return old;
    }
    const w = fd >>> 5;
    if (w >= this.holes.length) this.grow(w);
    this.holes[w] = (this.holes[w] as number) | (1 << (fd & 31));
    const s = w >>> 5;
    this.summary[s] = (this.summary[s] as number) | (1 << (w & 31));
    if (this.nHoles === 0 || s < this.lowSummary) this.lowSummary = s;
    this.nHoles++;
    return old;
  }

  /** Room in the bitmap for holes word `w` (doubling: the mark only grows one number at a time). */
  private grow(w: number): void {
    const words = Math.max(32, this.holes.length * 2, (w + 32) & ~31);
    const holes = new Int32Array(words);
    holes.set(this.holes);
    const summary = new Int32Array(words >>> 5);
    summary.set(this.summary);
    this.holes = holes;
    this.summary = summary;
  }

  /** Back to a fresh table: every descriptor closed and forgotten, so the next one is `first` again. */
  clear(): void {
    // An empty table's slots are all undefined already; keeping the arrays keeps their memory for reuse.
    if (this.count > 0) this.slots.fill(undefined);
    this.atFirst = undefined;
    if (this.nHoles > 0) {
      this.holes.fill(0);
      this.summary.fill(0);
      this.nHoles = 0;
    }
    this.mark = this.first;
    this.count = 0;
  }

  /** Open descriptors in increasing order. */
  *entries(): IterableIterator<[number, T]> {
    if (this.atFirst !== undefined) yield [this.first, this.atFirst];
    for (let fd = this.first + 1; fd < this.slots.length; fd++) {
      const v = this.slots[fd];
      if (v !== undefined) yield [fd, v];
    }
  }
}

const NO_WORDS = new Int32Array(0);

/** The index of the lowest set bit of a non-zero word (x & -x isolates it). */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}
