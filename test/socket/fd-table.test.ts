import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_FD_LIMIT, FdTable } from '../../src/socket/fd-table.js';

interface Sock {
  id: number;
}
const s = (id: number): Sock => ({ id });

describe('FdTable', () => {
  test('starts at 3 (0-2 are stdio) and counts up', () => {
    const t = new FdTable<Sock>();
    expect([t.alloc(s(1)), t.alloc(s(2)), t.alloc(s(3))]).toEqual([3, 4, 5]);
    expect(t.size).toBe(3);
    expect(t.limit).toBe(DEFAULT_FD_LIMIT);
  });

  test('reuses the lowest closed number first, like POSIX open/dup', () => {
    const t = new FdTable<Sock>();
    for (let i = 0; i < 6; i++) t.alloc(s(i)); // 3..8
    expect(t.close(7)).toEqual({ id: 4 });
    expect(t.close(4)).toEqual({ id: 1 });
    expect(t.close(5)).toEqual({ id: 2 });
    expect(t.lowestFree()).toBe(4);
    expect(t.alloc(s(10))).toBe(4);
    expect(t.alloc(s(11))).toBe(5);
    expect(t.alloc(s(12))).toBe(7);
    expect(t.alloc(s(13))).toBe(9);
  });

  test('EMFILE when the lowest free number reaches the limit; closing one frees a slot', () => {
    const t = new FdTable<Sock>({ limit: 6 });
    expect([t.alloc(s(1)), t.alloc(s(2)), t.alloc(s(3))]).toEqual([3, 4, 5]);
    expect(t.alloc(s(4))).toBe('EMFILE');
    expect(t.size).toBe(3);
    t.close(4);
    expect(t.alloc(s(5))).toBe(4);
    expect(t.alloc(s(6))).toBe('EMFILE');
  });

  test('lowering the limit closes nothing but stops new numbers at or above it', () => {
    const t = new FdTable<Sock>();
    for (let i = 0; i < 5; i++) t.alloc(s(i)); // 3..7
    t.limit = 5;
    expect(t.get(7)).toEqual({ id: 4 });
    expect(t.alloc(s(9))).toBe('EMFILE');
    t.close(6);
    expect(t.alloc(s(9))).toBe('EMFILE'); // 6 >= 5
    t.close(4);
    expect(t.alloc(s(9))).toBe(4);
  });

  test('EBADF for numbers that are not open', () => {
    const t = new FdTable<Sock>();
    const fd = t.alloc(s(1)) as number;
    expect(t.lookup(fd)).toEqual({ id: 1 });
    for (const bad of [0, 1, 2, 4, -1, 1.5, 1e9]) {
      expect(t.lookup(bad)).toBe('EBADF');
      expect(t.close(bad)).toBe('EBADF');
      expect(t.replace(bad, s(2))).toBe('EBADF');
    }
    expect(t.close(fd)).toEqual({ id: 1 });
    expect(t.close(fd)).toBe('EBADF');
    expect(t.has(fd)).toBe(false);
  });

  test('replace keeps the number', () => {
    const t = new FdTable<Sock>();
    const fd = t.alloc(s(1)) as number;
    expect(t.replace(fd, s(2))).toEqual({ id: 1 });
    expect(t.get(fd)).toEqual({ id: 2 });
  });

  test('entries in descriptor order', () => {
    const t = new FdTable<Sock>();
    for (let i = 0; i < 5; i++) t.alloc(s(i));
    t.close(5);
    expect([...t.entries()].map(([fd, v]) => [fd, v.id])).toEqual([[3, 0], [4, 1], [6, 3], [7, 4]]);
  });

  test('a million descriptors, then holes refilled lowest first', () => {
    const n = 1_000_000;
    const t = new FdTable<Sock>({ limit: n + 3 });
    const v = s(0);
    for (let i = 0; i < n; i++) t.alloc(v);
    expect(t.alloc(v)).toBe('EMFILE');
    // Close every 1000th descriptor from the top down, then reopen: they come back in increasing order.
    const closed: number[] = [];
    for (let fd = n + 2; fd >= 3; fd -= 1000) {
      t.close(fd);
      closed.push(fd);
    }
    closed.sort((a, b) => a - b);
    const got: number[] = [];
    for (let i = 0; i < closed.length; i++) got.push(t.alloc(v) as number);
    expect(got).toEqual(closed);
    expect(t.size).toBe(n);
  });

  test('property: every alloc returns the lowest free number below the limit (naive model)', () => {
    type Op = { kind: 'alloc' } | { kind: 'close'; pick: number } | { kind: 'limit'; value: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.constant<Op>({ kind: 'alloc' }) },
      { weight: 3, arbitrary: fc.nat(1000).map<Op>((pick) => ({ kind: 'close', pick })) },
      { weight: 1, arbitrary: fc.integer({ min: 3, max: 60 }).map<Op>((value) => ({ kind: 'limit', value })) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 3, max: 60 }), (ops, limit) => {
        const t = new FdTable<Sock>({ limit });
        const open = new Set<number>();
        let lim = limit;
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'alloc') {
            let want = 3;
            while (open.has(want)) want++;
            const got = t.alloc(s(id++));
            if (want >= lim) expect(got).toBe('EMFILE');
            else {
              expect(got).toBe(want);
              open.add(want);
            }
          } else if (o.kind === 'close') {
            const list = [...open];
            // Half the picks aim at an open number, the rest at anything (EBADF when not open).
            const fd = o.pick % 2 === 0 && list.length > 0 ? (list[o.pick % list.length] as number) : o.pick % 70;
            const got = t.close(fd);
            if (open.has(fd)) {
              expect(got).not.toBe('EBADF');
              open.delete(fd);
            } else expect(got).toBe('EBADF');
          } else {
            t.limit = o.value;
            lim = o.value;
          }
          expect(t.size).toBe(open.size);
        }
        expect([...t.entries()].map(([fd]) => fd)).toEqual([...open].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });

  test('property: lowest free across bitmap words, any first number, and clear() (naive model)', () => {
    // Bursts of allocs reach past 32 and 1,024 numbers (a holes word, a summary word), so holes and the
    // search for the lowest one cross word boundaries; clear() must leave a table as new.
    type Op = { kind: 'alloc'; n: number } | { kind: 'close'; pick: number } | { kind: 'limit'; value: number } | { kind: 'clear' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 700 }).map<Op>((n) => ({ kind: 'alloc', n })) },
      { weight: 6, arbitrary: fc.nat(1 << 20).map<Op>((pick) => ({ kind: 'close', pick })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 3000 }).map<Op>((value) => ({ kind: 'limit', value })) },
      { weight: 1, arbitrary: fc.constant<Op>({ kind: 'clear' }) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 60 }), fc.integer({ min: 0, max: 3000 }), fc.constantFrom(0, 3, 31, 1000), (ops, limit, first) => {
        const t = new FdTable<Sock>({ limit, first });
        const open = new Set<number>();
        let lim = limit;
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'alloc') {
            for (let i = 0; i < o.n; i++) {
              let want = first;
              while (open.has(want)) want++;
              expect(t.lowestFree()).toBe(want);
              const got = t.alloc(s(id++));
              if (want >= lim) {
                expect(got).toBe('EMFILE');
                break;
              }
              expect(got).toBe(want);
              open.add(want);
            }
          } else if (o.kind === 'close') {
            const list = [...open];
            // Mostly open numbers (in any order), some anything (EBADF when not open).
            const fd = o.pick % 4 !== 0 && list.length > 0 ? (list[o.pick % list.length] as number) : o.pick % 3100;
            const was = open.has(fd);
            const got = t.close(fd);
            if (was) {
              expect(got).not.toBe('EBADF');
              open.delete(fd);
            } else expect(got).toBe('EBADF');
          } else if (o.kind === 'limit') {
            t.limit = o.value;
            lim = o.value;
          } else {
            t.clear();
            open.clear();
          }
          expect(t.size).toBe(open.size);
        }
        expect([...t.entries()].map(([fd]) => fd)).toEqual([...open].sort((a, b) => a - b));
      }),
      { numRuns: 100 },
    );
  });
});
