import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  acceptQueueFull,
  ackVerdict,
  clampBacklog,
  decideSyn,
  LINUX_LISTEN_DEFAULTS,
  ListenQueues,
  SOMAXCONN,
  synQueueFull,
  synVerdict,
  type SynState,
} from '../../src/socket/queues.js';

interface Child {
  n: number;
}

const base: SynState = { synQueueLen: 0, acceptQueueLen: 0, maxAckBacklog: 4, syncookies: 'on-overflow', maxSynBacklog: 2048 };

describe('backlog', () => {
  test('listen() clamps (unsigned) backlog to somaxconn', () => {
    expect(SOMAXCONN).toBe(4096);
    expect(clampBacklog(5)).toBe(5);
    expect(clampBacklog(0)).toBe(0);
    expect(clampBacklog(4096)).toBe(4096);
    expect(clampBacklog(4097)).toBe(4096);
    expect(clampBacklog(-1)).toBe(4096); // (unsigned)-1 is huge
    expect(clampBacklog(200, 128)).toBe(128);
  });

  test('defaults are Linux defaults (syncookies=1, abort_on_overflow=0)', () => {
    expect(LINUX_LISTEN_DEFAULTS).toEqual({ somaxconn: 4096, maxSynBacklog: 2048, syncookies: 'on-overflow', abortOnOverflow: false });
  });

  test('full tests use > (Linux: a listener holds backlog + 1)', () => {
    expect(acceptQueueFull(0, 0)).toBe(false);
    expect(acceptQueueFull(1, 0)).toBe(true);
    expect(acceptQueueFull(5, 5)).toBe(false);
    expect(acceptQueueFull(6, 5)).toBe(true);
    expect(synQueueFull(5, 5)).toBe(false);
    expect(synQueueFull(6, 5)).toBe(true);
  });
});

describe('synVerdict (tcp_conn_request)', () => {
  test('room everywhere: queue', () => {
    expect(decideSyn(base)).toEqual({ verdict: 'queue', reason: 'ok' });
    expect(synVerdict(base)).toBe('queue');
  });

  test('SYN queue full: a cookie with tcp_syncookies=1, a drop with 0', () => {
    const full = { ...base, synQueueLen: 5 };
    expect(decideSyn(full)).toEqual({ verdict: 'cookie', reason: 'syn-queue-full' });
    expect(decideSyn({ ...full, syncookies: 'off' })).toEqual({ verdict: 'drop', reason: 'syn-queue-full' });
    expect(synVerdict({ ...base, synQueueLen: 4 })).toBe('queue'); // qlen == backlog is not full
  });

  test('tcp_syncookies=2: always a cookie', () => {
    expect(decideSyn({ ...base, syncookies: 'always' })).toEqual({ verdict: 'cookie', reason: 'cookies-always' });
  });

  test('accept queue full: drop, even where a cookie would be sent', () => {
    for (const syncookies of ['off', 'on-overflow', 'always'] as const) {
      expect(decideSyn({ ...base, syncookies, acceptQueueLen: 5 })).toEqual({ verdict: 'drop', reason: 'accept-queue-full' });
      expect(decideSyn({ ...base, syncookies, acceptQueueLen: 5, synQueueLen: 9 }).verdict).toBe('drop');
    }
    expect(synVerdict({ ...base, acceptQueueLen: 4 })).toBe('queue');
  });

  test('without syncookies the last quarter of tcp_max_syn_backlog is for proven peers', () => {
    const s = { ...base, syncookies: 'off' as const, maxSynBacklog: 8, maxAckBacklog: 100 };
    expect(synVerdict({ ...s, synQueueLen: 6 })).toBe('queue'); // 8 - 6 = 2, not < 2
    expect(decideSyn({ ...s, synQueueLen: 7 })).toEqual({ verdict: 'drop', reason: 'syn-backlog-reserved' });
    expect(synVerdict({ ...s, synQueueLen: 7, peerProven: true })).toBe('queue');
    expect(synVerdict({ ...s, synQueueLen: 7, syncookies: 'on-overflow' })).toBe('queue'); // only with cookies off
  });

  test('a SYN that revives a TIME-WAIT tuple skips the SYN-queue limits, not the accept queue', () => {
    const s = { ...base, syncookies: 'off' as const, synQueueLen: 50, fromTimeWait: true };
    expect(synVerdict(s)).toBe('queue');
    expect(synVerdict({ ...s, syncookies: 'always' })).toBe('queue');
    expect(synVerdict({ ...s, maxSynBacklog: 8 })).toBe('queue');
    expect(synVerdict({ ...s, acceptQueueLen: 5 })).toBe('drop');
  });

  test('ackVerdict: room, else drop (ignore the ACK) or reset with tcp_abort_on_overflow', () => {
    expect(ackVerdict(4, 4, false)).toBe('accept');
    expect(ackVerdict(5, 4, false)).toBe('drop');
    expect(ackVerdict(5, 4, true)).toBe('reset');
    expect(ackVerdict(0, 0, true)).toBe('accept');
  });
});

describe('ListenQueues', () => {
  const kids = (n: number): Child[] => Array.from({ length: n }, (_, i) => ({ n: i }));

  test('listen(fd, 0) still takes one connection; the next SYN is dropped while it waits', () => {
    const q = new ListenQueues<Child>(0);
    const [a, b] = kids(2) as [Child, Child];
    expect(q.onSyn().verdict).toBe('queue');
    q.addSyn(a);
    expect(q.complete(a)).toBe('accept');
    expect(q.onSyn()).toEqual({ verdict: 'drop', reason: 'accept-queue-full' });
    expect(q.accept()).toBe(a);
    expect(q.onSyn().verdict).toBe('queue');
    q.addSyn(b);
    expect(q.synQueueLength).toBe(1);
  });

  test('accept queue: FIFO, backlog + 1 completed children, then drop or reset', () => {
    const q = new ListenQueues<Child>(2);
    const c = kids(5);
    for (const k of c) q.addSyn(k); // the SYN queue may exceed what the accept queue can hold
    expect(q.complete(c[3]!)).toBe('accept');
    expect(q.complete(c[0]!)).toBe('accept');
    expect(q.complete(c[1]!)).toBe('accept');
    expect(q.acceptQueueLength).toBe(3);
    expect(q.complete(c[2]!)).toBe('drop');
    expect(q.inSynQueue(c[2]!)).toBe(true); // ignored ACK: the child waits in SYN-RECEIVED
    expect([q.accept(), q.accept()]).toEqual([c[3], c[0]]);
    expect(q.complete(c[2]!)).toBe('accept');
    expect([...q.acceptChildren()]).toEqual([c[1], c[2]]);
    expect([...q.synChildren()]).toEqual([c[4]]);
  });

  test('tcp_abort_on_overflow: the child leaves the SYN queue to be reset', () => {
    const q = new ListenQueues<Child>(0, { abortOnOverflow: true });
    const [a, b] = kids(2) as [Child, Child];
    q.addSyn(a);
    q.addSyn(b);
    expect(q.complete(a)).toBe('accept');
    expect(q.complete(b)).toBe('reset');
    expect(q.inSynQueue(b)).toBe(false);
    expect(q.synQueueLength).toBe(0);
  });

  test('a SYN-cookie child (never in the SYN queue) joins the accept queue if there is room', () => {
    const q = new ListenQueues<Child>(1, { syncookies: 'always' });
    expect(q.onSyn().verdict).toBe('cookie');
    const [a, b, c] = kids(3) as [Child, Child, Child];
    expect(q.complete(a)).toBe('accept');
    expect(q.complete(b)).toBe('accept');
    expect(q.complete(c)).toBe('drop');
    expect(q.acceptQueueLength).toBe(2);
    expect(() => q.complete(a)).toThrow(RangeError);
  });

  test('SYN queue: a child that times out or is reset is removed', () => {
    const q = new ListenQueues<Child>(8);
    const c = kids(3);
    for (const k of c) q.addSyn(k);
    expect(() => q.addSyn(c[0]!)).toThrow(RangeError);
    expect(q.removeSyn(c[1]!)).toBe(true);
    expect(q.removeSyn(c[1]!)).toBe(false);
    expect([...q.synChildren()]).toEqual([c[0], c[2]]);
  });

  test('SYN-queue limit counts children: on overflow a cookie, or a drop with cookies off', () => {
    const q = new ListenQueues<Child>(2);
    for (const k of kids(3)) {
      expect(q.onSyn().verdict).toBe('queue');
      q.addSyn(k);
    }
    expect(q.onSyn()).toEqual({ verdict: 'cookie', reason: 'syn-queue-full' });
    const off = new ListenQueues<Child>(2, { syncookies: 'off' });
    for (const k of kids(3)) off.addSyn(k);
    expect(off.onSyn()).toEqual({ verdict: 'drop', reason: 'syn-queue-full' });
    expect(off.onSyn({ fromTimeWait: true }).verdict).toBe('queue');
  });

  test('closing the listener drains both queues, completed children first', () => {
    const q = new ListenQueues<Child>(4);
    const c = kids(4);
    for (const k of c) q.addSyn(k);
    q.complete(c[2]!);
    q.complete(c[0]!);
    expect(q.drain()).toEqual({ accepted: [c[2], c[0]], pending: [c[1], c[3]] });
    expect(q.synQueueLength + q.acceptQueueLength).toBe(0);
    expect(q.accept()).toBeUndefined();
  });

  test('listen() again changes only the backlog', () => {
    const q = new ListenQueues<Child>(1);
    const c = kids(3);
    for (const k of c) q.addSyn(k);
    q.complete(c[0]!);
    q.complete(c[1]!);
    expect(q.complete(c[2]!)).toBe('drop');
    q.setBacklog(10);
    expect(q.maxAckBacklog).toBe(10);
    expect(q.complete(c[2]!)).toBe('accept');
    q.setBacklog(-5);
    expect(q.maxAckBacklog).toBe(4096);
    expect(q.removeAccepted(c[1]!)).toBe(true);
    expect(q.inAcceptQueue(c[1]!)).toBe(false);
  });

  test('property: queue lengths stay within Linux bounds under random SYN / ACK / accept / timeout traffic', () => {
    type Ev = { kind: 'syn' | 'ack' | 'accept' | 'timeout'; pick: number };
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 6 }),
        fc.constantFrom('off', 'on-overflow', 'always'),
        fc.boolean(),
        fc.array(fc.record({ kind: fc.constantFrom('syn', 'syn', 'ack', 'accept', 'timeout'), pick: fc.nat() }), { maxLength: 200 }),
        (backlog, syncookies, abortOnOverflow, events: Ev[]) => {
          const q = new ListenQueues<Child>(backlog, { syncookies, abortOnOverflow, somaxconn: 5 });
          const max = q.maxAckBacklog;
          expect(max).toBe(backlog < 0 ? 5 : Math.min(backlog, 5));
          let n = 0;
          let accepted = 0;
          let handed = 0;
          for (const e of events) {
            if (e.kind === 'syn') {
              const d = q.onSyn();
              if (d.verdict === 'queue') q.addSyn({ n: n++ });
              else if (d.verdict === 'cookie') {
                expect(syncookies).not.toBe('off');
                // The cookie comes back with the ACK: a child that never sat in the SYN queue.
                if (e.pick % 2 === 0 && q.complete({ n: n++ }) === 'accept') accepted++;
              }
              if (syncookies === 'always') expect(d.verdict).not.toBe('queue');
            } else if (e.kind === 'ack') {
              const pending = [...q.synChildren()];
              if (pending.length === 0) continue;
              const child = pending[e.pick % pending.length]!;
              const before = q.acceptQueueLength;
              const v = q.complete(child);
              expect(v).toBe(before > max ? (abortOnOverflow ? 'reset' : 'drop') : 'accept');
              if (v === 'accept') accepted++;
            } else if (e.kind === 'accept') {
              if (q.accept() !== undefined) handed++;
            } else {
              const pending = [...q.synChildren()];
              if (pending.length > 0) q.removeSyn(pending[e.pick % pending.length]!);
            }
            expect(q.acceptQueueLength).toBeLessThanOrEqual(max + 1);
            expect(q.synQueueLength).toBeLessThanOrEqual(max + 1);
            expect(q.acceptQueueLength).toBe(accepted - handed);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
