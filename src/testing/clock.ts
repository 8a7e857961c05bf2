/** A clock that moves only when told to: tests and replays drive time explicitly (microseconds). */
import type { Clock } from '../tcp/env.js';

export class ManualClock implements Clock {
  private us: number;

  constructor(startUs = 0) {
    this.us = startUs;
  }

  now(): number {
    return this.us;
  }

  /** Move to an absolute time; time never goes backwards. */
  set(us: number): void {
    if (us < this.us) throw new RangeError(`ManualClock cannot go back from ${this.us} to ${us}`);
    this.us = us;
  }

  advance(us: number): number {
    this.set(this.us + us);
    return this.us;
  }
}
