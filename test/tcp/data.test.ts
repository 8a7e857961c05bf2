/**
 * Data transfer: in-order delivery and RECEIVE, the out-of-order queue and its SACK blocks, delayed
 * ACKs (Linux quick-ack/ATO, BSD every second segment), Nagle, windows (scaling, updates after a read,
 * zero-window probes), the initial congestion window and PSH placement.
 */
import { describe, expect, test } from 'vitest';
import { freebsd, linux } from './profiles.js';
import { poll, pollAt } from '../../src/tcp/timers.js';
import { receive, send, status } from '../../src/tcp/user-calls.js';
import { TcpFlags, type TcpRepr } from '../../src/wire/tcp.js';
import { Conn, IRS, ISS, activeOpen, describe as d, flagString, inState, NO_TS, opt, optionsText } from './helpers.js';

function bytes(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

/** Runs timers up to `t`. */
function runTo(c: Conn, t: number): void {
  for (;;) {
    const at = pollAt(c.tcb);
    if (at === null || at > t) break;
    c.clock.set(Math.max(c.clock.now(), at));
    poll(c.tcb, c.clock.now());
  }
  c.clock.set(t);
}

describe('receiving in order (RFC 9293 §3.10.3 RECEIVE, §3.10.7.4 seventh)', () => {
  test('data is delivered in order, RECEIVE takes it, EOF after the FIN', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, payload: bytes(10) });
    c.arrive({ flags: 'P.', seq: IRS + 11, ack: ISS + 1, payload: bytes(5, 10) });
    expect(receive(c.tcb, 100, c.now)).toEqual(bytes(15));
    expect(receive(c.tcb, 100, c.now)).toBe('EAGAIN');
    c.arrive({ flags: 'F.', seq: IRS + 16, ack: ISS + 1 });
    expect(receive(c.tcb, 100, c.now)).toBe('EOF');
  });
  test('RECEIVE returns at most what was asked for', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, payload: bytes(10) });
    expect(receive(c.tcb, 4, c.now)).toEqual(bytes(4));
    expect(receive(c.tcb, 100, c.now)).toEqual(bytes(6, 4));
  });
  test('a segment partly before RCV.NXT: only the new octets are taken', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, payload: bytes(10) });
    c.arrive({ flags: 'P.', seq: IRS + 6, ack: ISS + 1, payload: bytes(10, 5) });
    expect(c.tcb.rcvNxt).toBe(IRS + 16);
    expect(receive(c.tcb, 100, c.now)).toEqual(bytes(15));
  });
});

describe('out of order (RFC 9293 §3.10.7.4 seventh, RFC 2018 SACK)', () => {
  test('segments ahead of RCV.NXT are held, ACKed at once with SACK blocks, most recent first', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: '.', seq: IRS + 101, ack: ISS + 1, payload: bytes(100, 100) });
    let a = c.one();
    expect(a.ack).toBe(IRS + 1);
    expect(optionsText(a.options)).toBe(`nop,nop,sack ${IRS + 101}:${IRS + 201}`);
    c.arrive({ flags: '.', seq: IRS + 301, ack: ISS + 1, payload: bytes(100, 300) });
    a = c.one();
    expect(optionsText(a.options)).toBe(`nop,nop,sack ${IRS + 301}:${IRS + 401} ${IRS + 101}:${IRS + 201}`);
    expect(c.tcb.readable).toBe(0);
    // The hole is filled: everything up to 401 less the second hole, ACKed at once.
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, payload: bytes(100) });
    a = c.one();
    expect(a.ack).toBe(IRS + 201);
    expect(optionsText(a.options)).toBe(`nop,nop,sack ${IRS + 301}:${IRS + 401}`);
    c.arrive({ flags: '.', seq: IRS + 201, ack: ISS + 1, payload: bytes(100, 200) });
    a = c.one();
    expect(a.ack).toBe(IRS + 401);
    expect(a.options).toEqual([]);
    expect(receive(c.tcb, 1000, c.now)).toEqual(bytes(400));
  });
  test('overlapping out-of-order segments merge into one block', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: '.', seq: IRS + 101, ack: ISS + 1, payload: bytes(100, 100) });
    c.arrive({ flags: '.', seq: IRS + 151, ack: ISS + 1, payload: bytes(100, 150) });
    const a = c.take().at(-1) as TcpRepr;
    expect(optionsText(a.options)).toBe(`nop,nop,sack ${IRS + 101}:${IRS + 251}`);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, payload: bytes(100) });
    expect(receive(c.tcb, 1000, c.now)).toEqual(bytes(250));
  });
  test('at most 3 SACK blocks with timestamps, 4 without (RFC 2018 §3)', () => {
    for (const [ts, max] of [[true, 3], [false, 4]] as const) {
      const c = activeOpen(linux, ts ? undefined : NO_TS);
      for (let i = 0; i < 6; i++) {
        c.arrive({ flags: '.', seq: IRS + 1 + 200 * (i + 1), ack: ISS + 1, payload: bytes(100), options: ts ? [opt.nop(), opt.nop(), opt.ts(5000 + i, c.tcb.tsVal())] : [] });
      }
      const a = c.take().at(-1) as TcpRepr;
      const sack = a.options.find((o) => o.kind === 'sack');
      expect(sack?.kind === 'sack' && sack.blocks.length).toBe(max);
    }
  });
  test('no SACK blocks when SACK was not negotiated', () => {
    const c = activeOpen(linux, [opt.mss(1460)]);
    c.arrive({ flags: '.', seq: IRS + 101, ack: ISS + 1, payload: bytes(100) });
    expect(c.one().options).toEqual([]);
  });
});

describe('delayed ACK', () => {
  test('linux: quick-ack mode at the start — the first data segments are ACKed at once', () => {
    const c = inState('ESTABLISHED');
    for (let i = 0; i < 5; i++) {
      c.arrive({ flags: '.', seq: IRS + 1 + 1000 * i, ack: ISS + 1, len: 1000 });
      expect(c.one().ack).toBe(IRS + 1 + 1000 * (i + 1));
    }
  });
  test('linux: after quick-ack, one segment waits ATO = 40 ms, the second full one is ACKed at once', () => {
    const c = inState('ESTABLISHED');
    // Use up the quick-ack credits (at most 16, rcv_wnd / (2 × rcv_mss) = 32 here).
    let seq = IRS + 1;
    let n = 0;
    for (; n < 40; n++) {
      c.arrive({ flags: '.', seq, ack: ISS + 1, len: 1000 });
      seq += 1000;
      receive(c.tcb, 100_000, c.now);
      if (c.take().length === 0) break;
    }
    expect(n).toBe(16);
    expect(c.tcb.delAckAt).toBe(c.now + 40_000);
    // The next full segment: two unacknowledged segments → ACK now (RFC 1122 §4.2.3.2).
    c.arrive({ flags: '.', seq, ack: ISS + 1, len: 1000 });
    expect(c.one().ack).toBe(seq + 1000);
    expect(c.tcb.delAckAt).toBe(-1);
  });
  test('linux: the delayed-ACK timer sends the ACK after 40 ms', () => {
    const c = inState('ESTABLISHED');
    c.tcb.quick = 0;
    c.tcb.ato = 40_000;
    c.tcb.rcvSsthresh = c.tcb.rcvSpace; // no window growth (which would ask for a quick ACK)
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, len: 100 });
    expect(c.take()).toEqual([]);
    expect(pollAt(c.tcb)).toBe(c.now + 40_000);
    runTo(c, c.now + 39_999);
    expect(c.take()).toEqual([]);
    runTo(c, c.now + 1);
    expect(c.one().ack).toBe(IRS + 101);
  });
  test('linux: a bare FIN before any data is ACKed at once; after data, ~40 ms later (pd: tcp_basic_server.pkt)', () => {
    const a = inState('ESTABLISHED');
    a.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 1 });
    expect(a.one().ack).toBe(IRS + 2);
    const b = inState('ESTABLISHED');
    b.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 1000 });
    b.take();
    b.arrive({ flags: 'F.', seq: IRS + 1001, ack: ISS + 1 });
    expect(b.take()).toEqual([]);
    runTo(b, b.now + 40_000);
    expect(b.one().ack).toBe(IRS + 1002);
  });
  test('linux: an interactive exchange (reply within ATO) enters pingpong mode: ACKs are delayed', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 10 });
    c.take();
    send(c.tcb, bytes(10), c.now); // a reply right away
    c.take();
    expect(c.tcb.pingpong).toBe(true);
    c.arrive({ flags: 'P.', seq: IRS + 11, ack: ISS + 11, len: 10 });
    expect(c.take()).toEqual([]);
    expect(c.tcb.delAckAt).toBeGreaterThan(c.now);
  });
  test('freebsd: one segment waits delacktime 100 ms, the second is ACKed at once', () => {
    const c = inState('ESTABLISHED', freebsd);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, len: 1000 });
    expect(c.take()).toEqual([]);
    expect(c.tcb.delAckAt).toBe(c.now + 100_000);
    c.arrive({ flags: '.', seq: IRS + 1001, ack: ISS + 1, len: 1000 });
    expect(c.one().ack).toBe(IRS + 2001);
    c.arrive({ flags: '.', seq: IRS + 2001, ack: ISS + 1, len: 1000 });
    expect(c.take()).toEqual([]);
    runTo(c, c.now + 100_000);
    expect(c.one().ack).toBe(IRS + 3001);
  });
});

describe('sending (RFC 9293 §3.10.2 SEND)', () => {
  test('initial congestion window: 10 segments (RFC 6928), the rest after ACKs', () => {
    const c = activeOpen(linux, NO_TS, {}, 65535);
    expect(send(c.tcb, bytes(20 * 1460), c.now)).toBe(20 * 1460);
    const out = c.take();
    expect(out.length).toBe(10);
    expect(out.map((s) => s.payload.length)).toEqual(Array(10).fill(1460));
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1 + 2920, win: 65535 });
    expect(c.take().length).toBeGreaterThanOrEqual(2);
  });
  test('linux: PSH on the last segment of a burst; freebsd: only where the buffer empties', () => {
    const l = activeOpen(linux, NO_TS);
    send(l.tcb, bytes(12 * 1460), l.now);
    const lo = l.take();
    expect(lo.map((s) => flagString(s.flags)).slice(-2)).toEqual(['.', 'P.']);
    const f = activeOpen(freebsd, NO_TS);
    send(f.tcb, bytes(12 * 1460), f.now);
    const fo = f.take();
    expect(fo.every((s) => !(s.flags & TcpFlags.PSH))).toBe(true);
  });
  test('the send window limits what goes out; a small window takes half-window segments', () => {
    const c = activeOpen(linux, [opt.mss(1460)], {}, 1000);
    send(c.tcb, bytes(3000), c.now);
    const out = c.take();
    expect(out.map((s) => s.payload.length)).toEqual([1000]);
  });
  test('Nagle (RFC 9293 §3.7.4): a second small write waits for the ACK of the first; TCP_NODELAY sends it', () => {
    const c = inState('ESTABLISHED');
    send(c.tcb, bytes(100), c.now);
    expect(c.take().length).toBe(1);
    send(c.tcb, bytes(100), c.now);
    expect(c.take()).toEqual([]);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 101 });
    expect(d(c.one(), ISS, IRS)).toMatch(/^P\. 101:201\(100\)/);
    const n = activeOpen(linux, NO_TS, { nodelay: true });
    send(n.tcb, bytes(100), n.now);
    send(n.tcb, bytes(100), n.now);
    expect(n.take().length).toBe(2);
  });
  test('SEND before ESTABLISHED is queued and goes after the handshake', () => {
    const c = inState('SYN-SENT');
    expect(send(c.tcb, bytes(50), c.now)).toBe(50);
    expect(c.take()).toEqual([]);
    c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 65535, options: NO_TS });
    const out = c.take();
    expect(out.map((s) => d(s, ISS, IRS).split(' win')[0])).toEqual(['. 1:1(0) ack 1', 'P. 1:51(50) ack 1']);
  });
  test('a full send buffer takes no more', () => {
    const c = activeOpen(linux, NO_TS, { sndBuf: 4000 }, 0);
    expect(send(c.tcb, bytes(5000), c.now)).toBe(4000);
    expect(send(c.tcb, bytes(10), c.now)).toBe(0);
    expect(status(c.tcb).unsent).toBe(4000);
  });
});

describe('windows', () => {
  test('the advertised window is the free space, scaled and rounded up to the scale unit (Linux)', () => {
    const c = inState('ESTABLISHED');
    c.tcb.rcvSsthresh = c.tcb.rcvSpace;
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, len: 1000 });
    const a = c.one();
    expect(a.window).toBe(Math.ceil((65536 - 1000) / 128));
  });
  test('reading after the window fell below half sends a window update (Linux tcp_cleanup_rbuf)', () => {
    const c = activeOpen(linux, NO_TS, { rcvBuf: 8192 });
    let seq = IRS + 1;
    for (let i = 0; i < 6; i++) {
      c.arrive({ flags: '.', seq, ack: ISS + 1, len: 1000 });
      seq += 1000;
    }
    c.take();
    expect(c.tcb.rcvWindow).toBeLessThan(4096);
    receive(c.tcb, 100_000, c.now);
    const upd = c.one();
    expect(upd.ack).toBe(seq);
    expect(upd.window * 2 ** c.tcb.rcvWscale).toBeGreaterThanOrEqual(4096);
  });
  test('data beyond the receive space is not taken', () => {
    const c = activeOpen(linux, NO_TS, { rcvBuf: 2000 });
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, len: 1500 });
    c.arrive({ flags: '.', seq: IRS + 1501, ack: ISS + 1, len: 1500 });
    expect(c.tcb.readable).toBe(2000);
    expect(c.tcb.rcvNxt).toBe(IRS + 2001);
  });
});

describe('zero-window probing (RFC 9293 §3.8.6.1)', () => {
  test('linux: data waits on a zero window; probes are ACKs at SND.UNA-1, backed off from max(RTO, 200 ms)', () => {
    const c = activeOpen(linux, NO_TS, {}, 0);
    send(c.tcb, bytes(100), c.now);
    expect(c.take()).toEqual([]);
    const t0 = c.now;
    const rto = c.tcb.rto;
    expect(c.tcb.persistAt).toBe(t0 + Math.max(rto, 200_000));
    runTo(c, c.tcb.persistAt);
    const probe = c.one();
    expect(d(probe, ISS, IRS)).toMatch(/^\. 0:0\(0\) ack 1 /); // SEQ = SND.UNA - 1 = ISS
    expect(c.tcb.persistAt).toBe(c.now + 2 * Math.max(rto, 200_000));
    runTo(c, c.tcb.persistAt);
    c.take();
    expect(c.tcb.persistAt).toBe(c.now + 4 * Math.max(rto, 200_000));
    // The window opens: the data goes, probing stops.
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 1000 });
    expect(d(c.one(), ISS, IRS)).toMatch(/^P\. 1:101\(100\)/);
    expect(c.tcb.persistAt).toBe(-1);
  });
  test('freebsd: the probe is one octet of new data; persist starts at 5 s (TCPTV_PERSMIN)', () => {
    const c = activeOpen(freebsd, NO_TS, {}, 0);
    send(c.tcb, bytes(100), c.now);
    expect(c.take()).toEqual([]);
    expect(c.tcb.persistAt - c.now).toBe(5_000_000);
    runTo(c, c.tcb.persistAt);
    const probe = c.one();
    expect(d(probe, ISS, IRS)).toMatch(/^P?\.? ?1:2\(1\)/);
    expect(probe.payload.length).toBe(1);
  });
});

describe('fast retransmit (RFC 5681 §3.2)', () => {
  test('the third duplicate ACK resends the first unacknowledged segment once; cwnd = ssthresh', () => {
    const c = activeOpen(linux, NO_TS, {}, 65535);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 65535 }); // the window, scaled from now on
    send(c.tcb, bytes(5 * 1460), c.now);
    expect(c.take().length).toBe(5);
    for (let i = 0; i < 2; i++) c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 65535 });
    expect(c.take()).toEqual([]);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 65535 });
    const r = c.take();
    expect(r.map((s) => [s.seq - ISS, s.payload.length])).toEqual([[1, 1460]]);
    expect(c.tcb.ssthresh).toBe(Math.floor((5 * 1460) / 2));
    expect(c.tcb.cwnd).toBe(c.tcb.ssthresh);
    expect(c.tcb.rtxNxt).toBe(c.tcb.sndNxt);
  });
});
