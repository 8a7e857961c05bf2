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
  private readonly items: T[] = [];
  private readonly until: number[] = [];

  push(item: T, at: number): void {
    const items = this.items;
    const until = this.until;
    let i = items.length;
    items.push(item);
    until.push(at);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((until[p] as number) <= at) break;
      items[i] = items[p] as T;
      until[i] = until[p] as number;
      i = p;
    }
    items[i] = item;
    until[i] = at;
  }

  /** An item whose deadline is at or before `now` (removed), or undefined; due items come out in no set order. */
  popDue(now: number): T | undefined {
    const items = this.items;
    const until = this.until;
    if (items.length === 0 || (until[0] as number) > now) return undefined;
    const top = items[0] as T;
    const lastItem = items.pop() as T;
    const lastAt = until.pop() as number;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (until[r] as number) < (until[l] as number) ? r : l;
        if ((until[c] as number) >= lastAt) break;
        items[i] = items[c] as T;
        until[i] = until[c] as number;
        i = c;
      }
      items[i] = lastItem;
      until[i] = lastAt;
    }
    return top;
  }

  get size(): number {
    return this.items.length;
  }
}
