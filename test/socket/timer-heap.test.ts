/**
 * The socket table keeps its timers in a heap filed lazily (table.ts arm/settle): a socket is filed
 * under a deadline when its deadline moves earlier and re-checked when it reaches the top. These tests
 * hold it to the scan it replaced: after every frame, call and timer, no live socket's real next
 * deadline (tcp/timers.ts pollAt) is earlier than the one it is filed under, and the table's pollAt()
 * is the minimum over every live socket. The traffic is made to arm every kind of timer: a lossy link
 * (retransmissions, SYN and SYN-ACK included), a receiver that stops reading behind a small buffer
 * (persist), delayed ACKs, FIN-WAIT-2 and TIME-WAIT.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MinHeap } from '../../src/socket/min-heap.js';
import { isErrno } from '../../src/socket/errno.js';
import { Host } from '../../src/stack/host.js';
import { ManualClock } from '../../src/testing/clock.js';
import { seededRandom } from '../../src/testing/random.js';
import { rfc6528Isn } from '../../src/tcp/isn.js';
import { pollAt as tcbPollAt } from '../../src/tcp/timers.js';

describe('MinHeap', () => {
  test('pops in deadline order whatever the push order, interleaved with pops and clears', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(-1), fc.constant(-2)), { maxLength: 200 }), (ops) => {
        const h = new MinHeap<number>();
        const model: number[] = [];
        for (const [i, op] of ops.entries()) {
          if (op === -2) {
            // Emptied and filled again: the arrays keep their room, the entries behind `size` are never read.
            h.clear();
            model.length = 0;
          } else if (op < 0) {
            if (model.length === 0) continue;
            model.sort((a, b) => a - b);
            const want = model.shift() as number;
            expect(h.peekKey()).toBe(want);
            const item = h.pop();
            // The item travels with its deadline: items were pushed as deadline * 1000 + index.
            expect(Math.floor(item / 1000)).toBe(want);
          } else {
            h.push(op, op * 1000 + (i % 1000));
            model.push(op);
          }
          expect(h.size).toBe(model.length);
        }
      }),
    );
  });
});

const A = { ip: '198.18.0.1', mac: '02:00:00:00:00:01' };
const B = { ip: '198.18.0.2', mac: '02:00:00:00:00:02' };
const KINDS = ['rtxAt', 'persistAt', 'delAckAt', 'finWait2At', 'timeWaitAt'] as const;

interface Flight {
  at: number;
  seq: number;
  to: Host;
  frame: Uint8Array;
}

/** The scan the heap replaced, and the filing invariant, on every live socket of `h`. */
function checkTimers(h: Host, seen: Set<string>, problems: string[], when: string): void {
  let min: number | null = null;
  for (const s of h.sockets.live) {
    const real = tcbPollAt(s.tcb);
    for (const k of KINDS) if (s.tcb[k] >= 0) seen.add(k);
    if (real === null) continue;
    if (min === null || real < min) min = real;
    if (s.timerAt < 0 || s.timerAt > real) problems.push(`${when}: ${h.name} socket ${s.id} (${s.tcb.state}) due at ${real}, filed at ${s.timerAt}`);
  }
  const got = h.sockets.pollAt();
  if (got !== min) problems.push(`${when}: ${h.name} pollAt() = ${got}, the scan says ${min}`);
}

function runScenario(seed: number): { problems: string[]; seen: Set<string>; retransmits: number } {
  const clock = new ManualClock(0);
  const rand = seededRandom(seed);
  let queue: Flight[] = [];
  let seq = 0;
  const hosts: Host[] = [];
  const make = (me: typeof A, peer: typeof A): Host => {
    const r = seededRandom(seed * 31 + hosts.length);
    const host: Host = new Host({
      name: me.ip,
      mac: me.mac,
      ipv4: [me.ip],
      env: { clock, rand: r, isn: rfc6528Isn(r) },
      neighbors: { [peer.ip]: peer.mac },
      sink: (frame, time) => {
        // A lossy link: one frame in eight is lost, the rest arrive 2-10 ms later.
        if (rand.nextU32() % 8 === 0) return;
        const to = hosts.find((x) => x !== host) as Host;
        queue.push({ at: time + 2000 + (rand.nextU32() % 8000), seq: seq++, to, frame });
      },
    });
    hosts.push(host);
    return host;
  };
  const server = make(A, B);
  const client = make(B, A);
  const problems: string[] = [];
  const seen = new Set<string>();
  const check = (when: string): void => {
    for (const h of hosts) checkTimers(h, seen, problems, when);
  };

  const lfd = server.sockets.socket('inet');
  if (isErrno(lfd)) throw new Error(lfd);
  // A small receive buffer, inherited by the children: a server that stops reading closes its window.
  server.sockets.setsockopt(lfd, 'SO_RCVBUF', 2048);
  server.sockets.bind(lfd, A.ip, 80);
  server.sockets.listen(lfd, 64);
  const clientFds: number[] = [];
  const serverFds: number[] = [];
  const payload = new Uint8Array(3000).fill(0x61);
  let retransmits = 0;

  for (let step = 0; step < 3000; step++) {
    const now = step * 1000;
    clock.set(now);
    const due = queue.filter((f) => f.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    queue = queue.filter((f) => f.at > now);
    for (const f of due) {
      f.to.input(f.frame, now);
      check(`frame at ${now}`);
    }
    for (const h of hosts) {
      const p = h.pollAt();
      if (p !== null && p <= now) {
        h.poll(now);
        check(`poll at ${now}`);
      }
    }
    for (const h of hosts) for (const s of h.sockets.live) retransmits = Math.max(retransmits, s.tcb.retransmits);
    // The applications: each step one random call.
    const r = rand.nextU32() % 100;
    if (r < 6 && step < 2000) {
      const fd = client.sockets.socket('inet');
      if (!isErrno(fd)) {
        client.sockets.connect(fd, A.ip, 80);
        clientFds.push(fd);
      }
    } else if (r < 12) {
      const a = server.sockets.accept(lfd);
      if (!isErrno(a)) serverFds.push(a.fd);
    } else if (r < 40) {
      const fds = r < 30 ? clientFds : serverFds;
      const fd = fds[rand.nextU32() % Math.max(1, fds.length)];
      if (fd !== undefined) (r < 30 ? client : server).sockets.send(fd, payload.subarray(0, 1 + (rand.nextU32() % 3000)));
    } else if (r < 55) {
      // The server reads only now and then (its window fills: persist); the client reads what comes.
      const [h, fds] = r < 45 ? [server, serverFds] : [client, clientFds];
      const fd = fds[rand.nextU32() % Math.max(1, fds.length)];
      if (fd !== undefined) h.sockets.recv(fd, 1 + (rand.nextU32() % 4000));
    } else if (r < 60) {
      const [h, fds] = r < 58 ? [client, clientFds] : [server, serverFds];
      const i = rand.nextU32() % Math.max(1, fds.length);
      const fd = fds[i];
      if (fd !== undefined) {
        if (r === 55) h.sockets.shutdown(fd, 'SHUT_WR');
        else {
          h.sockets.close(fd);
          fds.splice(i, 1);
        }
      }
    }
    check(`call at ${now}`);
    if (problems.length > 10) break;
  }
  return { problems, seen, retransmits };
}

describe('SocketTable timers', () => {
  test.each([1, 2, 3])('seed %i: every live socket is filed no later than its next deadline, and pollAt() is the scan', (seed) => {
    const { problems, seen, retransmits } = runScenario(seed);
    expect(problems).toEqual([]);
    // The traffic did arm every kind of timer, and lost frames were retransmitted.
    expect([...seen].sort()).toEqual([...KINDS].sort());
    expect(retransmits).toBeGreaterThan(0);
  });
});
