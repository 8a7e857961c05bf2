/**
 * Property tests (fast-check):
 * - random segment streams, timer polls and user calls never throw and always leave a legal state with
 *   consistent sequence variables;
 * - two TCBs wired back to back through a lossy, duplicating, reordering network always deliver the data
 *   intact and in order both ways, across the 2^32 sequence wrap, for every pair of personalities.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { acceptSyn } from '../../src/tcp/listen.js';
import { freebsd, linux, type Personality } from './profiles.js';
import { segmentArrives } from '../../src/tcp/segment-arrives.js';
import { TCP_STATES } from '../../src/tcp/state.js';
import { Tcb } from '../../src/tcp/tcb.js';
import { poll, pollAt } from '../../src/tcp/timers.js';
import { abort, close, connect, listen, receive, send, shutdownWrite } from '../../src/tcp/user-calls.js';
import { ManualClock } from '../../src/testing/clock.js';
import { fixedIsn } from '../../src/testing/isn.js';
import { seededRandom } from '../../src/testing/random.js';
import { seqLe } from '../../src/wire/seq.js';
import { TcpFlags, type TcpOption, type TcpRepr } from '../../src/wire/tcp.js';
import { inState, IRS, LOCAL, REMOTE, type StateName } from './helpers.js';

// ---------------------------------------------------------------------------------------------------
// Random segment streams

type Action =
  | { kind: 'seg'; flags: number; seqFrom: 'rcv' | 'abs'; seq: number; ackFrom: 'snd' | 'abs'; ack: number; len: number; win: number; ts: number | null; synOpts: boolean }
  | { kind: 'poll'; dt: number }
  | { kind: 'call'; call: 'send' | 'receive' | 'close' | 'shutdown' | 'abort' };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('seg' as const),
      flags: fc.integer({ min: 0, max: 0x1ff }),
      seqFrom: fc.constantFrom('rcv' as const, 'abs' as const),
      seq: fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.nat(0xffffffff)),
      ackFrom: fc.constantFrom('snd' as const, 'abs' as const),
      ack: fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.nat(0xffffffff)),
      len: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
      win: fc.nat(65535),
      ts: fc.option(fc.nat(0xffffffff)),
      synOpts: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('poll' as const), dt: fc.oneof(fc.nat(1_000_000), fc.nat(200_000_000)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('call' as const), call: fc.constantFrom('send' as const, 'receive' as const, 'close' as const, 'shutdown' as const, 'abort' as const) }) },
);

const START: Array<StateName | 'CLOSED' | 'LISTEN'> = [
  'CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'SYN-RECEIVED(active)', 'ESTABLISHED', 'FIN-WAIT-1',
  'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT',
];

function toSeg(tcb: Tcb, a: Extract<Action, { kind: 'seg' }>): TcpRepr {
  const options: TcpOption[] = [];
  if (a.synOpts) options.push({ kind: 'mss', value: 1 + (a.win % 9000) }, { kind: 'wscale', shift: a.win % 16 }, { kind: 'sack-permitted' });
  if (a.ts !== null) options.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: a.ts, tsEcr: a.ts ^ 0x5a5a });
  if (a.len % 7 === 3) options.push({ kind: 'sack', blocks: [[a.seq >>> 0, (a.seq + 100) >>> 0]] });
  return {
    srcPort: REMOTE.port,
    dstPort: LOCAL.port,
    seq: (a.seqFrom === 'rcv' ? tcb.rcvNxt + a.seq : a.seq) >>> 0,
    ack: (a.ackFrom === 'snd' ? tcb.sndNxt + a.ack : a.ack) >>> 0,
    flags: a.flags,
    window: a.win,
    urgent: a.win & 0xff,
    options,
    payload: new Uint8Array(a.len),
  };
}

function checkInvariants(tcb: Tcb, out: TcpRepr[]): void {
  expect(TCP_STATES).toContain(tcb.state);
  if (tcb.state !== 'CLOSED' && tcb.state !== 'LISTEN') {
    expect(seqLe(tcb.sndUna, tcb.sndNxt)).toBe(true);
    expect(seqLe(tcb.sndUna, tcb.rtxNxt) && seqLe(tcb.rtxNxt, tcb.sndNxt)).toBe(true);
  }
  expect(tcb.rcvBuf.length + tcb.ooo.bytes).toBeLessThanOrEqual(tcb.rcvSpace);
  if (tcb.state === 'CLOSED') expect(pollAt(tcb)).toBe(null);
  if (tcb.state === 'TIME-WAIT') expect(tcb.timeWaitAt).toBeGreaterThanOrEqual(0);
  for (const s of out) {
    expect(s.window).toBeGreaterThanOrEqual(0);
    expect(s.window).toBeLessThanOrEqual(65535);
    if (!(s.flags & TcpFlags.ACK)) expect(s.ack).toBe(0);
    if (s.flags & TcpFlags.RST) expect(s.payload.length).toBe(0);
    expect(s.seq).toBe(s.seq >>> 0);
  }
}

describe('random segment streams', () => {
  for (const p of [linux, freebsd]) {
    test(`${p.name}: never throw, always a legal state with consistent sequence variables`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...START), fc.array(actionArb, { maxLength: 40 }), (start, actions) => {
          let tcb: Tcb;
          let clock: ManualClock;
          let out: TcpRepr[];
          if (start === 'CLOSED' || start === 'LISTEN') {
            clock = new ManualClock();
            out = [];
            const o = out;
            tcb = new Tcb({ env: { clock, rand: seededRandom(1), isn: fixedIsn(7) }, local: LOCAL, config: { personality: p }, hooks: { output: (s) => o.push(s) } });
            if (start === 'LISTEN') listen(tcb, 0);
          } else {
            const c = inState(start, p);
            tcb = c.tcb;
            clock = c.clock;
            out = c.out;
          }
          for (const a of actions) {
            out.length = 0;
            if (a.kind === 'seg') {
              segmentArrives(tcb, toSeg(tcb, a), clock.now());
            } else if (a.kind === 'poll') {
              clock.advance(a.dt);
              const at = pollAt(tcb);
              if (at !== null && at <= clock.now()) poll(tcb, clock.now());
            } else {
              const now = clock.now();
              if (a.call === 'send') send(tcb, new Uint8Array(700), now);
              else if (a.call === 'receive') receive(tcb, 5000, now);
              else if (a.call === 'close') close(tcb, now);
              else if (a.call === 'shutdown') shutdownWrite(tcb, now);
              else abort(tcb, now);
            }
            checkInvariants(tcb, out);
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// Two TCBs back to back

interface NetParams {
  seed: number;
  loss: number;
  dup: number;
  maxDelayUs: number;
  aToB: number;
  bToA: number;
  clientIsn: number;
  serverIsn: number;
}

interface Packet {
  at: number;
  seq: number; // tie-break for equal times
  toServer: boolean;
  seg: TcpRepr;
}

const CLIENT = { addr: '10.0.0.1', port: 50000 };
const SERVER = { addr: '10.0.0.2', port: 80 };

function pattern(n: number, salt: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + salt + (i >> 8)) & 0xff;
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Runs a whole connection: handshake, data both ways, close; returns what each side read. */
function backToBack(pc: Personality, ps: Personality, np: NetParams): { toServer: Uint8Array; toClient: Uint8Array; sent: [Uint8Array, Uint8Array]; client: Tcb; server: Tcb | null } {
  const rnd = seededRandom(np.seed);
  const chance = (): number => rnd.nextU32() / 2 ** 32;
  const clock = new ManualClock();
  const queue: Packet[] = [];
  let order = 0;
  const transmit = (toServer: boolean) => (seg: TcpRepr): void => {
    if (chance() < np.loss) return;
    const copies = chance() < np.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      queue.push({ at: clock.now() + 100 + Math.floor(chance() * np.maxDelayUs), seq: order++, toServer, seg });
    }
  };
  const envC = { clock, rand: seededRandom(np.seed + 1), isn: fixedIsn(np.clientIsn) };
  const envS = { clock, rand: seededRandom(np.seed + 2), isn: fixedIsn(np.serverIsn) };
  const client = new Tcb({ env: envC, local: CLIENT, config: { personality: pc }, hooks: { output: transmit(true) } });
  const listener = new Tcb({ env: envS, local: SERVER, config: { personality: ps }, hooks: { output: transmit(false) } });
  listen(listener, 0);
  let server: Tcb | null = null;

  const data: [Uint8Array, Uint8Array] = [pattern(np.aToB, 1), pattern(np.bToA, 2)];
  const sentOff = [0, 0];
  const got: [Uint8Array[], Uint8Array[]] = [[], []]; // [read by server, read by client]
  const done = [false, false];
  connect(client, SERVER, 0);

  const app = (tcb: Tcb, side: 0 | 1): void => {
    const now = clock.now();
    const mine = data[side];
    if (sentOff[side] < mine.length && (tcb.state === 'ESTABLISHED' || tcb.state === 'CLOSE-WAIT')) {
      const n = send(tcb, mine.subarray(sentOff[side]), now);
      if (typeof n === 'number') sentOff[side] += n;
    }
    if (sentOff[side] >= mine.length && !done[side] && (tcb.state === 'ESTABLISHED' || tcb.state === 'CLOSE-WAIT')) {
      done[side] = true;
      shutdownWrite(tcb, now);
    }
    for (;;) {
      const r = receive(tcb, 100_000, now);
      if (!(r instanceof Uint8Array)) break;
      got[side === 0 ? 1 : 0].push(r);
    }
  };

  for (let steps = 0; steps < 200_000; steps++) {
    app(client, 0);
    if (server !== null) app(server, 1);
    const finished = (t: Tcb | null): boolean => t !== null && (t.state === 'TIME-WAIT' || t.state === 'CLOSED');
    if (finished(client) && finished(server) && queue.length === 0) break;
    // Next event: a delivery or a timer.
    let next = Number.POSITIVE_INFINITY;
    for (const p of queue) next = Math.min(next, p.at);
    for (const t of [client, server]) {
      if (t === null) continue;
      const d = pollAt(t);
      if (d !== null) next = Math.min(next, d);
    }
    if (next === Number.POSITIVE_INFINITY) break;
    if (next > 3_000_000_000) break; // 50 minutes of simulated time
    clock.set(Math.max(clock.now(), next));
    const now = clock.now();
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (queue.length > 0 && (queue[0] as Packet).at <= now) {
      const p = queue.shift() as Packet;
      if (p.toServer) {
        if (server === null || (server.state === 'CLOSED' && p.seg.flags & TcpFlags.SYN && !(p.seg.flags & TcpFlags.ACK))) {
          if (server === null && p.seg.flags === TcpFlags.SYN) server = acceptSyn(listener, p.seg, SERVER, CLIENT, now);
          else if (server === null) segmentArrives(listener, p.seg, now);
        } else {
          segmentArrives(server, p.seg, now);
        }
      } else {
        segmentArrives(client, p.seg, now);
      }
    }
    for (const t of [client, server]) {
      if (t === null) continue;
      const d = pollAt(t);
      if (d !== null && d <= now) poll(t, now);
    }
  }
  return { toServer: concat(got[0]), toClient: concat(got[1]), sent: data, client, server };
}

const netArb: fc.Arbitrary<NetParams> = fc.record({
  seed: fc.nat(),
  loss: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.15, noNaN: true })),
  dup: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.1, noNaN: true })),
  maxDelayUs: fc.oneof(fc.constant(1000), fc.integer({ min: 1000, max: 80_000 })),
  aToB: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60_000 })),
  bToA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })),
  // Near the wrap as often as not (RFC 9293 §3.4: arithmetic is modulo 2^32).
  clientIsn: fc.oneof(fc.nat(0xffffffff), fc.integer({ min: 0xffff0000, max: 0xffffffff })),
  serverIsn: fc.oneof(fc.nat(0xffffffff), fc.integer({ min: 0xffff0000, max: 0xffffffff })),
});

describe('two TCBs back to back', () => {
  const pairs: Array<[Personality, Personality]> = [[linux, linux], [freebsd, freebsd], [linux, freebsd], [freebsd, linux]];
  for (const [pc, ps] of pairs) {
    test(`${pc.name} client, ${ps.name} server: data intact and in order both ways despite loss, duplication, reordering`, () => {
      fc.assert(
        fc.property(netArb, (np) => {
          const r = backToBack(pc, ps, np);
          expect(r.toServer).toEqual(r.sent[0]);
          expect(r.toClient).toEqual(r.sent[1]);
          expect(['TIME-WAIT', 'CLOSED']).toContain(r.client.state);
          expect(['TIME-WAIT', 'CLOSED']).toContain(r.server?.state);
          expect(r.client.error).toBe(null);
          expect(r.server?.error ?? null).toBe(null);
        }),
        { numRuns: 25 },
      );
    });
  }
  test('a clean network: across the 2^32 wrap, no retransmission at all', () => {
    const r = backToBack(linux, linux, { seed: 1, loss: 0, dup: 0, maxDelayUs: 1000, aToB: 50_000, bToA: 10_000, clientIsn: 0xffffff00, serverIsn: 0xfffffff0 });
    expect(r.toServer).toEqual(r.sent[0]);
    expect(r.toClient).toEqual(r.sent[1]);
    expect(r.client.retransmits).toBe(0);
    expect(IRS).toBeGreaterThan(0);
  });
});
