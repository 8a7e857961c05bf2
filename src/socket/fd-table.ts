/**
 * The descriptor table of one Host: what the program sees (numbers) in front of what the stack
 * sees (sockets). POSIX: socket(), accept() and dup() return "the lowest numbered file descriptor
 * not currently open"; 0, 1 and 2 are taken by stdio, so a fresh process gets 3 first. A
 * descriptor number must stay below RLIMIT_NOFILE, otherwise the call fails with EMFILE; Linux's
 * default soft limit is 1024.
 *
 * Lowest-free in O(log n): numbers below the high-water mark that were closed sit in a binary
 * min-heap; numbers at or above the mark have never been handed out. So the lowest free number is
 * the heap's top if there is one (every heap entry is below the mark), else the mark. A million
 * descriptors cost one array slot each plus a heap entry per hole.
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
  private readonly slots: Array<T | undefined> = [];
  /** Binary min-heap of closed numbers below the mark: its first `nHoles` entries (the array never shrinks). */
  private readonly holes: number[] = [];
  private nHoles = 0;
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
    return this.nHoles > 0 ? (this.holes[0] as number) : this.mark;
  }

  /** Open a descriptor for value: the lowest free number, or 'EMFILE' when that number reaches the limit. */
  alloc(value: T): Result<number> {
    const fd = this.lowestFree();
    if (fd >= this.max) return 'EMFILE';
    if (this.nHoles > 0) this.popHole();
    else this.mark++;
    this.slots[fd] = value;
    this.count++;
    return fd;
  }

  get(fd: number): T | undefined {
    return fd >= this.first && fd < this.slots.length ? this.slots[fd] : undefined;
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
    this.slots[fd] = value;
    return old;
  }

  /** Close fd, making its number the next to be reused if it is the lowest; returns what it held. */
  close(fd: number): Result<T> {
    const old = this.get(fd);
    if (old === undefined) return 'EBADF';
    this.slots[fd] = undefined;
    this.count--;
    // The highest number with none below it free: the mark steps back instead (the same free set, and
    // the heap is left alone: a client host opens and closes one descriptor, over and over).
    if (this.nHoles === 0 && fd === this.mark - 1) this.mark = fd;
    else this.pushHole(fd);
    return old;
  }

  /** Back to a fresh table: every descriptor closed and forgotten, so the next one is `first` again. */
  clear(): void {
    // An empty table's slots are all undefined already; keeping the arrays keeps their memory for reuse.
    if (this.count > 0) this.slots.fill(undefined);
    this.nHoles = 0;
    this.mark = this.first;
    this.count = 0;
  }

  /** Open descriptors in increasing order. */
  *entries(): IterableIterator<[number, T]> {
    for (let fd = this.first; fd < this.slots.length; fd++) {
      const v = this.slots[fd];
      if (v !== undefined) yield [fd, v];
    }
  }

  // Binary min-heap of closed numbers below the mark.
  private pushHole(fd: number): void {
    const h = this.holes;
    let i = this.nHoles++;
    if (i === h.length) h.push(fd);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as number;
      if (p <= fd) break;
      h[i] = p;
      i = parent;
    }
    h[i] = fd;
  }

  private popHole(): void {
    const h = this.holes;
    const n = --this.nHoles;
    const last = h[n] as number;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (h[r] as number) < (h[l] as number) ? r : l;
      if ((h[c] as number) >= last) break;
      h[i] = h[c] as number;
      i = c;
    }
    h[i] = last;
  }
}
