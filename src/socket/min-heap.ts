/**
 * A binary min-heap of (key, item) pairs: the socket table's timer queue (key: a deadline) and the
 * replay's deadline queues. Entries are never updated or removed in place: the timer queue files a new
 * entry when a deadline moves earlier and checks the top one against the connection's real next
 * deadline when it reaches it (lazy deletion), so a segment or call costs O(log n) and a poll touches
 * only what is due, not every open socket.
 *
 * The heap is the first `n` entries of two arrays that never shrink: a heap that empties and fills again
 * (a queue that drains and refills, over and over) reuses their memory instead of having the engine
 * drop the arrays' storage at length 0 and allocate it anew at the next push.
 */
export class MinHeap<T> {
  private readonly keys: number[] = [];
  private readonly items: Array<T | undefined> = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** The smallest key; only when size > 0. */
  peekKey(): number {
    return this.keys[0] as number;
  }

  /** The item with the smallest key; only when size > 0. */
  peekItem(): T {
    return this.items[0] as T;
  }

  /** Every entry gone (a reused descriptor table starts afresh); the arrays keep their room. */
  clear(): void {
    if (this.n === 0) return;
    this.items.fill(undefined, 0, this.n);
    this.n = 0;
  }

  push(key: number, item: T): void {
    const keys = this.keys;
    const items = this.items;
    let i = this.n++;
    if (i === keys.length) {
      keys.push(key);
      items.push(item);
    }
    while (i > 0) {
      const up = (i - 1) >> 1;
      const uk = keys[up] as number;
      if (uk <= key) break;
      keys[i] = uk;
      items[i] = items[up];
      i = up;
    }
    keys[i] = key;
    items[i] = item;
  }

  /** Removes and returns the item with the smallest key; only when size > 0. */
  pop(): T {
    const keys = this.keys;
    const items = this.items;
    const top = items[0] as T;
    const n = --this.n;
    const lastKey = keys[n] as number;
    const lastItem = items[n];
    // The array no longer holds what it handed out (the garbage collector may take it).
    items[n] = undefined;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (keys[r] as number) < (keys[l] as number) ? r : l;
      const ck = keys[c] as number;
      if (ck >= lastKey) break;
      keys[i] = ck;
      items[i] = items[c];
      i = c;
    }
    keys[i] = lastKey;
    items[i] = lastItem;
    return top;
  }
}
