import { MinHeap } from '../socket/min-heap.js';

/**
 * A FIFO of (item, deadline) for the replay's timers (close linger, TIME-WAIT): deadlines are pushed in
 * capture-time order, so the head is always the next one due. No array shifting: a head index, and the
 * array is compacted once half of it is spent.
 */
export class DeadlineQueue<T> {
  private items: Array<T | undefined> = [];
  private until: number[] = [];
  private head = 0;

  push(item: T, at: number): void {
    this.items.push(item);
    this.until.push(at);
  }

  /** The first item whose deadline is at or before `now` (removed), or undefined. */
  popDue(now: number): T | undefined {
    if (this.head >= this.items.length || (this.until[this.head] as number) > now) return undefined;
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.until = this.until.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The deadline of the head (the next one due), or Infinity when empty. */
  nextAt(): number {
    return this.head < this.items.length ? (this.until[this.head] as number) : Infinity;
  }

  /** The head item without taking it out. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  get size(): number {
    return this.items.length - this.head;
  }
}

/**
 * A min-heap of (item, deadline) for deadlines that do NOT come in order (a closed connection's linger
 * ends `closeLingerUs` after its own last frame, and a straggler pushes it back): `popDue` hands out
 * every item that is due, whatever was pushed before it, so when an item comes out depends on it and
 * the clock alone, never on its neighbours (which a FIFO's head would make it wait for).
 */
export class DeadlineHeap<T> {
  private readonly heap = new MinHeap<T>();

  push(item: T, at: number): void {
    this.heap.push(at, item);
  }

  /** The earliest deadline, or Infinity when empty. */
  nextAt(): number {
    return this.heap.size > 0 ? this.heap.peekKey() : Infinity;
  }

  /** An item whose deadline is at or before `now` (removed), or undefined; due items come out in no set order. */
  popDue(now: number): T | undefined {
    const h = this.heap;
    return h.size === 0 || h.peekKey() > now ? undefined : h.pop();
  }

  get size(): number {
    return this.heap.size;
  }
}
