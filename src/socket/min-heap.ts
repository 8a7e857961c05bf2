/**
 * A binary min-heap of (key, item) pairs. The socket table's timer queue (key: a deadline) and the
 * descriptor table's free numbers (key: the descriptor) are two. Entries are never updated or removed
 * in place: the timer queue files a new entry when a deadline moves earlier and checks the top one
 * against the connection's real next deadline when it reaches it (lazy deletion), so a segment or call
 * costs O(log n) and a poll touches only what is due, not every open socket.
 */
export class MinHeap<T> {
  private readonly keys: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** The smallest key; only when size > 0. */
  peekKey(): number {
    return this.keys[0] as number;
  }

  /** The item with the smallest key; only when size > 0. */
  peekItem(): T {
    return this.items[0] as T;
  }

  push(key: number, item: T): void {
    const keys = this.keys;
    const items = this.items;
    let i = keys.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const up = (i - 1) >> 1;
      const uk = keys[up] as number;
      if (uk <= key) break;
      keys[i] = uk;
      items[i] = items[up] as T;
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
    const lastKey = keys.pop() as number;
    const lastItem = items.pop() as T;
    const n = keys.length;
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
      items[i] = items[c] as T;
      i = c;
    }
    keys[i] = lastKey;
    items[i] = lastItem;
    return top;
  }
}
