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

  /** The deadline at the head, or Infinity when empty. */
  get nextDue(): number {
    return this.head < this.items.length ? (this.until[this.head] as number) : Infinity;
  }

  get size(): number {
    return this.items.length - this.head;
  }
}
