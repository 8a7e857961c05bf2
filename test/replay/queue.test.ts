/**
 * The replay's deadline queue (src/replay/queue.ts) against the plainest model, an array used as a
 * FIFO: random runs of pushes (deadlines in capture-time order, as the tracker pushes them) and pops
 * at random times, long enough to wrap the ring and make it grow several times.
 */
import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { DeadlineHeap, DeadlineQueue } from '../../src/replay/queue.js';

describe('DeadlineQueue', () => {
  it('pops what a FIFO model pops, in order, only once due', () => {
    const op = fc.oneof(
      fc.record({ push: fc.constant(true), step: fc.nat({ max: 5 }) }),
      fc.record({ push: fc.constant(false), step: fc.nat({ max: 8 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new DeadlineQueue<number>();
        const model: Array<{ item: number; at: number }> = [];
        let at = 1_700_000_000_000_000; // microseconds since 1970: past 2^31, as replay's are
        let now = at;
        let next = 0;
        for (const o of ops) {
          if (o.push) {
            at += o.step;
            q.push(next, at);
            model.push({ item: next, at });
            next++;
          } else {
            now += o.step;
            const popped: number[] = [];
            for (let x = q.popDue(now); x !== undefined; x = q.popDue(now)) popped.push(x);
            const due: number[] = [];
            while (model.length > 0 && (model[0] as { at: number }).at <= now) due.push((model.shift() as { item: number }).item);
            expect(popped).toEqual(due);
          }
          expect(q.size).toBe(model.length);
          expect(q.nextAt()).toBe(model.length > 0 ? (model[0] as { at: number }).at : Infinity);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a long queue in order across growth and wrap-around', () => {
    const q = new DeadlineQueue<number>();
    let popped = 0;
    for (let i = 0; i < 10_000; i++) {
      q.push(i, i);
      // Pop every third step: the head moves on while the ring fills, so it wraps before it grows.
      if (i % 3 === 0) expect(q.popDue(i)).toBe(popped++);
    }
    for (let x = q.popDue(Infinity); x !== undefined; x = q.popDue(Infinity)) expect(x).toBe(popped++);
    expect(popped).toBe(10_000);
    expect(q.size).toBe(0);
  });
});

describe('DeadlineHeap', () => {
  it('pops exactly the due items, never one that is not due, whatever order the deadlines come in', () => {
    // Mostly later deadlines (the FIFO's case), some earlier ones (a straggler's linger: the heap's).
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.record({ push: fc.constant(true), step: fc.integer({ min: -20, max: 5 }) }) },
      { weight: 1, arbitrary: fc.record({ push: fc.constant(false), step: fc.nat({ max: 8 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new DeadlineHeap<number>();
        const model = new Map<number, number>(); // item → deadline
        let at = 1_700_000_000_000_000;
        let now = at;
        let next = 0;
        for (const o of ops) {
          if (o.push) {
            at += o.step;
            q.push(next, at);
            model.set(next++, at);
          } else {
            now += o.step;
            const popped: number[] = [];
            let last = -Infinity;
            for (let x = q.popDue(now); x !== undefined; x = q.popDue(now)) {
              // Each pop is the earliest deadline left (the tracker reads nextAt() before popping).
              const d = model.get(x) as number;
              expect(d).toBeGreaterThanOrEqual(last);
              last = d;
              popped.push(x);
              model.delete(x);
            }
            expect(popped.length === 0 || last <= now).toBe(true);
            for (const d of model.values()) expect(d).toBeGreaterThan(now);
          }
          expect(q.size).toBe(model.size);
          expect(q.nextAt()).toBe(model.size > 0 ? Math.min(...model.values()) : Infinity);
        }
      }),
      { numRuns: 500 },
    );
  });
});
