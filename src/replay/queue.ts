import { MinHeap } from '../socket/min-heap.js';

/**
 * A FIFO of (item, deadline) for the replay's timers (close linger, TIME-WAIT): deadlines are pushed in
 * capture-time order, so the head is always the next one due. A ring that doubles when full and is
 * never copied otherwise: a replay of a million connections pushes two million entries through it, and
 * the compacting copies of an array used as a queue (tens of thousands of entries, each copy a new
 * large object) were old-generation garbage.
 */
export class DeadlineQueue<T> {
  private items: Array<T | undefined> = new Array<T | undefined>(16).fill(undefined);
  private until = new Float64Array(16);
  /** Index of the head; `count` entries follow it, wrapping at the capacity (a power of two). */
  private head = 0;
  private count = 0;

  push(item: T, at: number): void {
    if (this.count === this.items.length) this.grow();
    const i = (this.head + this.count) & (this.items.length - 1);
    this.items[i] = item;
    this.until[i] = at;
    this.count++;
  }

  /** The first item whose deadline is at or before `now` (removed), or undefined. */
  popDue(now: number): T | undefined {
    if (this.count === 0 || (this.until[this.head] as number) > now) return undefined;
    const h = this.head;
    const item = this.items[h] as T;
    this.items[h] = undefined;
    this.head = (h + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  /** The deadline of the head (the next one due), or Infinity when empty. */
  nextAt(): number {
    return this.count > 0 ? (this.until[this.head] as number) : Infinity;
  }

  /** The head item without taking it out. */
  peek(): T | undefined {
    return this.count > 0 ? this.items[this.head] : undefined;
  }

  get size(): number {
    return this.count;
  }

  /** Twice the room, the entries unwrapped to the front in order. */
  private grow(): void {
    const cap = this.items.length;
    const items = new Array<T | undefined>(2 * cap).fill(undefined);
    const until = new Float64Array(2 * cap);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & (cap - 1);
      items[k] = this.items[i];
      until[k] = this.until[i] as number;
    }
    this.items = items;
    this.until = until;
    this.head = 0;
  }
}

/**
 * A priority queue of (item, deadline) for deadlines that do NOT all come in order (a closed
 * connection's linger ends `closeLingerUs` after its own last frame, and a straggler pushes it back):
 * `popDue` hands out every item that is due, whatever was pushed before it, so when an item comes out
 * depends on it and the clock alone, never on its neighbours (which a FIFO's head would make it wait for).
 *
 * Most deadlines do come in order (a capture's clock only moves forward), so those go to a FIFO ring
 * (O(1), touched in order) and only one earlier than the last pushed goes to a min-heap (O(log n), a
 * cache miss per level once it holds tens of thousands): the earlier of the two heads is the next due.
 */
export class DeadlineHeap<T> {
  private readonly heap = new MinHeap<T>();
  private readonly fifo = new DeadlineQueue<T>();
  /** The deadline of the FIFO's last entry (-Infinity when empty): a later one keeps it sorted. */
  private tailAt = -Infinity;

  push(item: T, at: number): void {
    if (at >= this.tailAt) {
      this.fifo.push(item, at);
      this.tailAt = at;
    } else this.heap.push(at, item);
  }

  /** The earliest deadline, or Infinity when empty. */
  nextAt(): number {
    const a = this.fifo.nextAt();
    const h = this.heap;
    if (h.size === 0) return a;
    const b = h.peekKey();
    return b < a ? b : a;
  }

  /** An item whose deadline is at or before `now` (removed), or undefined; due items come out in no set order. */
  popDue(now: number): T | undefined {
    const h = this.heap;
    if (h.size > 0 && h.peekKey() <= now && h.peekKey() < this.fifo.nextAt()) return h.pop();
    const item = this.fifo.popDue(now);
    if (this.fifo.size === 0) this.tailAt = -Infinity;
    return item;
  }

  get size(): number {
    return this.heap.size + this.fifo.size;
  }
}
