/**
 * Timers with exact values per personality: SYN and SYN-ACK retransmission, data retransmission with
 * RFC 6298 backoff, TIME-WAIT, FIN-WAIT-2, FreeBSD's connection-establishment limit, pollAt.
 */
import { describe, expect, test } from 'vitest';
import { freebsd, linux, type Personality } from './profiles.js';
import { poll, pollAt } from '../../src/tcp/timers.js';
import { close, connect, send } from '../../src/tcp/user-calls.js';
import { flagString, Conn, IRS, ISS, NO_TS, REMOTE, activeOpen, inState, makeEnv, passiveOpen } from './helpers.js';

/** Fires timers until CLOSED or `limit`; returns the times (s) at which segments left, and the end. */
function runUntilQuiet(c: Conn, limitUs: number): { sent: number[]; closedAt: number | null } {
  const sent: number[] = [];
  for (;;) {
    const at = pollAt(c.tcb);
    if (at === null || at > limitUs) break;
    c.clock.set(Math.max(c.clock.now(), at));
    poll(c.tcb, c.clock.now());
    for (let i = 0; i < c.take().length; i++) sent.push(c.now / 1e6);
    if (c.tcb.state === 'CLOSED') return { sent, closedAt: c.now / 1e6 };
  }
  return { sent, closedAt: null };
}

describe('SYN retransmission (SYN-SENT)', () => {
  test('linux 6.x: five 1 s retransmissions (tcp_syn_linear_timeouts 4), then doubling; ETIMEDOUT at 131 s', () => {
    const c = new Conn();
    connect(c.tcb, REMOTE, 0);
    c.take();
    const r = runUntilQuiet(c, 1000e6);
    expect(r.sent).toEqual([1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
    expect(r.closedAt).toBe(131);
    expect(c.tcb.error).toBe('ETIMEDOUT');
    expect(c.states()).toEqual(['CLOSED>SYN-SENT:call', 'SYN-SENT>CLOSED:timer']);
  });
  test('linux with tcp_syn_linear_timeouts=0, tcp_syn_retries=6: 1, 3, 7, 15, 31, 63 s, ETIMEDOUT at 127 s (tcp(7))', () => {
    const c = new Conn(makeEnv(), { personality: { ...linux, synLinearTimeouts: 0 } });
    connect(c.tcb, REMOTE, 0);
    c.take();
    const r = runUntilQuiet(c, 1000e6);
    expect(r.sent).toEqual([1, 3, 7, 15, 31, 63]);
    expect(r.closedAt).toBe(127);
  });
  test('the retransmitted SYN is the same SYN (seq, options), with a new TSval', () => {
    const c = new Conn();
    connect(c.tcb, REMOTE, 0);
    const first = c.one();
    c.clock.set(1_000_000);
    poll(c.tcb, 1_000_000);
    const again = c.one();
    expect(again.seq).toBe(first.seq);
    expect(again.options.map((o) => o.kind)).toEqual(first.options.map((o) => o.kind));
    const ts = (s: typeof first): number => {
      const o = s.options.find((x) => x.kind === 'timestamps');
      return o?.kind === 'timestamps' ? o.tsVal : -1;
    };
    expect(ts(again) - ts(first)).toBe(1000);
  });
  test('freebsd: 1 s, then base × 2^n + 200 ms slop (pd: SYN at +1, +2.2 s); keepinit ends it at 75 s', () => {
    const c = new Conn(makeEnv(), { personality: freebsd });
    connect(c.tcb, REMOTE, 0);
    c.take();
    const r = runUntilQuiet(c, 1000e6);
    expect(r.sent.map((x) => Math.round(x * 10) / 10)).toEqual([1, 3.2, 7.4, 15.6, 31.8, 64]);
    expect(r.closedAt).toBe(75);
    expect(c.tcb.error).toBe('ETIMEDOUT');
  });
  test('freebsd without keepinit: 12 retransmissions (TCP_MAXRXTSHIFT), capped at 64 s, ETIMEDOUT at 512 s', () => {
    const c = new Conn(makeEnv(), { personality: freebsd, connectTimeoutUs: null });
    connect(c.tcb, REMOTE, 0);
    c.take();
    const r = runUntilQuiet(c, 10_000e6);
    expect(r.sent.map((x) => Math.round(x * 10) / 10)).toEqual([1, 3.2, 7.4, 15.6, 31.8, 64, 128, 192, 256, 320, 384, 448]);
    expect(r.closedAt).toBe(512);
  });
});

describe('SYN-ACK retransmission (passive SYN-RECEIVED)', () => {
  test('linux: tcp_synack_retries 5 — 1, 3, 7, 15, 31 s, the request is dropped at 63 s (no error, nothing sent)', () => {
    const { conn } = passiveOpen(linux, NO_TS);
    conn.take();
    const r = runUntilQuiet(conn, 1000e6);
    expect(r.sent).toEqual([1, 3, 7, 15, 31]);
    expect(r.closedAt).toBe(63);
    expect(conn.tcb.error).toBe(null);
  });
  test('freebsd: syncache rexmtlimit 3 — 1, 3.2, 7.4 s, dropped at 15.6 s', () => {
    const { conn } = passiveOpen(freebsd, NO_TS);
    conn.take();
    const r = runUntilQuiet(conn, 1000e6);
    expect(r.sent.map((x) => Math.round(x * 10) / 10)).toEqual([1, 3.2, 7.4]);
    expect(r.closedAt).toBe(15.6);
  });
  test('the retransmission is the SYN-ACK again: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> (pd: init_rto_passive_open.pkt)', () => {
    const { conn } = passiveOpen(linux, NO_TS);
    const first = conn.one();
    conn.clock.set(1_000_000);
    poll(conn.tcb, 1_000_000);
    const again = conn.one();
    expect(flagString(again.flags)).toBe('S.');
    expect(again.seq).toBe(first.seq);
    expect(again.ack).toBe(first.ack);
    expect(again.options).toEqual(first.options);
  });
});

/** An established connection whose handshake took `rttUs`. */
function established(p: Personality, rttUs: number): Conn {
  const c = new Conn(makeEnv(), { personality: p });
  connect(c.tcb, REMOTE, 0);
  c.take();
  c.clock.set(rttUs);
  c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 65535, options: NO_TS });
  c.take();
  return c;
}

describe('data retransmission (RFC 6298)', () => {
  test('linux: RTO = SRTT + max(200 ms, 4·RTTVAR) after a 10 ms handshake = 210 ms, then doubling', () => {
    const c = established(linux, 10_000);
    expect(c.tcb.rto).toBe(10_000 + 200_000);
    const t0 = c.now;
    send(c.tcb, new Uint8Array(100), c.now);
    c.take();
    const r = runUntilQuiet(c, t0 + 5_000_000);
    const gaps = r.sent.map((s) => Math.round((s * 1e6 - t0) / 1000));
    expect(gaps).toEqual([210, 630, 1470, 3150]);
  });
  test('the retransmission resends the first unacknowledged segment', () => {
    const c = established(linux, 10_000);
    send(c.tcb, new Uint8Array(3000), c.now);
    const first = c.take();
    expect(first.map((s) => s.payload.length)).toEqual([1460, 1460, 80]);
    c.clock.advance(210_000);
    poll(c.tcb, c.now);
    const again = c.one();
    expect(again.seq).toBe(ISS + 1);
    expect(again.payload.length).toBe(1460);
    // RFC 5681 §3.1: after a timeout the congestion window is one segment.
    expect(c.tcb.cwnd).toBe(1460);
  });
  test('an ACK of new data resets the count and restarts the timer at the (backed-off) RTO', () => {
    const c = established(linux, 10_000);
    send(c.tcb, new Uint8Array(3000), c.now);
    c.take();
    c.clock.advance(210_000);
    poll(c.tcb, c.now);
    c.take();
    expect(c.tcb.retransmits).toBe(1);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1461, win: 65535 });
    expect(c.tcb.retransmits).toBe(0);
    // Karn: no sample from a retransmitted segment, the RTO stays backed off.
    expect(c.tcb.rto).toBe(420_000);
    expect(c.tcb.rtxAt).toBe(c.now + 420_000);
  });
  test('freebsd: RTO = SRTT + 4·RTTVAR + 200 ms slop; backoff base × 2^n + slop', () => {
    const c = established(freebsd, 10_000);
    expect(c.tcb.rto).toBe(10_000 + 20_000 + 200_000);
    const t0 = c.now;
    send(c.tcb, new Uint8Array(100), c.now);
    c.take();
    const r = runUntilQuiet(c, t0 + 2_000_000);
    const gaps = r.sent.map((s) => Math.round((s * 1e6 - t0) / 1000));
    // 230, then 30·2+200 = 260, 30·4+200 = 320, 30·8+200 = 440, 30·16+200 = 680
    expect(gaps).toEqual([230, 490, 810, 1250, 1930]);
  });
  test('linux gives up after tcp_retries2 = 15 worth of backoff from 200 ms (924.6 s, tcp_model_timeout)', () => {
    const c = established(linux, 10_000);
    const t0 = c.now;
    send(c.tcb, new Uint8Array(100), c.now);
    c.take();
    const r = runUntilQuiet(c, t0 + 3_000e6);
    // Independently: timer firings at RTO 210 ms doubling to the 120 s cap; the first firing at least
    // 924.6 s after the original transmission ends the connection.
    const firings: number[] = [];
    let t = t0;
    let rto = 210_000;
    for (;;) {
      t += rto;
      firings.push(t);
      if (t - t0 >= 924_600_000) break;
      rto = Math.min(rto * 2, 120_000_000);
    }
    expect(r.closedAt).toBe((firings.at(-1) as number) / 1e6);
    expect(r.sent.length).toBe(firings.length - 1);
    expect(c.tcb.error).toBe('ETIMEDOUT');
  });
  test('freebsd gives up after 12 retransmissions (TCP_MAXRXTSHIFT)', () => {
    const c = established(freebsd, 10_000);
    send(c.tcb, new Uint8Array(100), c.now);
    c.take();
    const r = runUntilQuiet(c, 10_000e6);
    expect(r.sent.length).toBe(12);
    expect(c.tcb.error).toBe('ETIMEDOUT');
  });
});

describe('closing timers', () => {
  for (const p of [linux, freebsd]) {
    test(`${p.name}: TIME-WAIT lasts 60 s (2×MSL), then CLOSED by the timer`, () => {
      const c = inState('TIME-WAIT', p);
      const t0 = c.now;
      expect(pollAt(c.tcb)).toBe(t0 + 60_000_000);
      const r = runUntilQuiet(c, t0 + 100e6);
      expect(r.closedAt).toBe((t0 + 60_000_000) / 1e6);
      expect(c.states()).toEqual(['TIME-WAIT>CLOSED:timer']);
    });
  }
  test('linux: FIN-WAIT-2 after close() waits tcp_fin_timeout 60 s, then goes without a RST', () => {
    const c = inState('ESTABLISHED', linux);
    close(c.tcb, c.now);
    c.take();
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 2 });
    expect(c.tcb.state).toBe('FIN-WAIT-2');
    const t0 = c.now;
    const r = runUntilQuiet(c, t0 + 100e6);
    expect(r.closedAt).toBe((t0 + 60e6) / 1e6);
    expect(r.sent).toEqual([]);
  });
  test('freebsd: FIN-WAIT-2 after close() waits 600 s (TP_MAXIDLE)', () => {
    const c = inState('ESTABLISHED', freebsd);
    close(c.tcb, c.now);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 2 });
    expect(c.tcb.finWait2At - c.now).toBe(600e6);
  });
  test('FIN-WAIT-2 after shutdown(SHUT_WR) has no timeout: the application may still read', () => {
    const c = inState('FIN-WAIT-2', linux);
    expect(pollAt(c.tcb)).toBe(null);
  });
});

describe('pollAt', () => {
  test('an idle ESTABLISHED connection has no deadline; CLOSED neither', () => {
    const c = activeOpen(linux, NO_TS);
    expect(pollAt(c.tcb)).toBe(null);
    expect(pollAt(new Conn().tcb)).toBe(null);
  });
  test('poll before a deadline does nothing', () => {
    const c = inState('SYN-SENT');
    poll(c.tcb, 999_999);
    expect(c.take()).toEqual([]);
    expect(pollAt(c.tcb)).toBe(1_000_000);
  });
});
