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
import { MinHeap } from './min-heap.js';

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
  /** Closed numbers below the mark (key and item: the number). */
  private readonly holes = new MinHeap<number>();
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
    return this.holes.size > 0 ? this.holes.peekKey() : this.mark;
  }

  /** Open a descriptor for value: the lowest free number, or 'EMFILE' when that number reaches the limit. */
  alloc(value: T): Result<number> {
    const fd = this.lowestFree();
    if (fd >= this.max) return 'EMFILE';
    if (this.holes.size > 0) this.holes.pop();
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
    if (this.holes.size === 0 && fd === this.mark - 1) this.mark = fd;
    else this.holes.push(fd, fd);
    return old;
  }

  /** Back to a fresh table: every descriptor closed and forgotten, so the next one is `first` again. */
  clear(): void {
    // An empty table's slots are all undefined already; keeping the arrays keeps their memory for reuse.
    if (this.count > 0) this.slots.fill(undefined);
    this.holes.clear();
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
}
