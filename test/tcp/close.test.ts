/**
 * Close sequences (RFC 9293 §3.6, §3.10.4 CLOSE, §3.10.5 ABORT): active, passive, simultaneous (CLOSING),
 * half-close with shutdown(SHUT_WR), closing with unread data, aborts, and the errors the calls return.
 */
import { describe, expect, test } from 'vitest';
import { freebsd, linux } from './profiles.js';
import { poll, pollAt } from '../../src/tcp/timers.js';
import { abort, close, listen, receive, send, shutdownWrite } from '../../src/tcp/user-calls.js';
import { Conn, IRS, ISS, describe as d, flagString, inState } from './helpers.js';

const rel = (c: Conn) => (s: Parameters<typeof d>[0]) => d(s, ISS, IRS).replace(/ win \d+/, '');

describe('active close: ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED', () => {
  for (const p of [linux, freebsd]) {
    test(`${p.name}: CLOSE sends <FIN,ACK>, the peer ACKs then FINs, we ACK and wait 2 MSL`, () => {
      const c = inState('ESTABLISHED', p);
      const r = rel(c);
      expect(close(c.tcb, c.now)).toBe(null);
      expect(r(c.one())).toBe('F. 1:1(0) ack 1');
      c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 2 });
      expect(c.take()).toEqual([]);
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 2 });
      expect(r(c.one())).toBe('. 2:2(0) ack 2');
      c.clock.advance(60_000_000);
      poll(c.tcb, c.now);
      expect(c.states()).toEqual([
        'ESTABLISHED>FIN-WAIT-1:call',
        'FIN-WAIT-1>FIN-WAIT-2:segment',
        'FIN-WAIT-2>TIME-WAIT:segment',
        'TIME-WAIT>CLOSED:timer',
      ]);
    });
  }
  test('queued data goes before the FIN, the FIN rides on the last segment', () => {
    const c = inState('ESTABLISHED');
    send(c.tcb, new Uint8Array(100), c.now);
    c.take();
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 101 });
    send(c.tcb, new Uint8Array(50), c.now);
    close(c.tcb, c.now);
    const out = c.take().map(rel(c));
    expect(out).toEqual(['P. 101:151(50) ack 1', 'F. 151:151(0) ack 1']);
  });
});

describe('passive close: ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED', () => {
  for (const p of [linux, freebsd]) {
    test(`${p.name}: the peer's FIN, RECEIVE gives EOF, CLOSE sends the FIN, its ACK ends the connection`, () => {
      const c = inState('ESTABLISHED', p);
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 1 });
      c.take();
      expect(receive(c.tcb, 10, c.now)).toBe('EOF');
      close(c.tcb, c.now);
      expect(rel(c)(c.one())).toBe('F. 1:1(0) ack 2');
      c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 2 });
      expect(c.tcb.state).toBe('CLOSED');
      expect(c.states()).toEqual(['ESTABLISHED>CLOSE-WAIT:segment', 'CLOSE-WAIT>LAST-ACK:call', 'LAST-ACK>CLOSED:segment']);
    });
  }
  test('CLOSE-WAIT: we can still send before closing', () => {
    const c = inState('CLOSE-WAIT');
    expect(send(c.tcb, new Uint8Array(10), c.now)).toBe(10);
    expect(rel(c)(c.one())).toBe('P. 1:11(10) ack 2');
  });
});

describe('simultaneous close: FIN-WAIT-1 → CLOSING → TIME-WAIT', () => {
  for (const p of [linux, freebsd]) {
    test(`${p.name}: crossed FINs`, () => {
      const c = inState('ESTABLISHED', p);
      close(c.tcb, c.now);
      c.take();
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 1 });
      expect(c.tcb.state).toBe('CLOSING');
      c.take();
      c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 2 });
      expect(c.tcb.state).toBe('TIME-WAIT');
      expect(pollAt(c.tcb)).toBe(c.now + 60_000_000);
    });
  }
});

describe('half-close with shutdown(SHUT_WR)', () => {
  test('FIN sent, SEND fails with EPIPE, data still received and read (pd: shutdown-wr-close.pkt)', () => {
    const c = inState('ESTABLISHED');
    expect(shutdownWrite(c.tcb, c.now)).toBe(null);
    expect(rel(c)(c.one())).toBe('F. 1:1(0) ack 1');
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 2 });
    expect(send(c.tcb, new Uint8Array(5), c.now)).toBe('EPIPE');
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 2, len: 1000 });
    expect(rel(c)(c.one())).toBe('. 2:2(0) ack 1001');
    expect((receive(c.tcb, 2000, c.now) as Uint8Array).length).toBe(1000);
    c.arrive({ flags: 'F.', seq: IRS + 1001, ack: ISS + 2 });
    expect(rel(c)(c.one())).toBe('. 2:2(0) ack 1002');
    expect(c.tcb.state).toBe('TIME-WAIT');
  });
  test('shutdown in SYN-SENT waits for ESTABLISHED, then sends the FIN', () => {
    const c = inState('SYN-SENT');
    shutdownWrite(c.tcb, c.now);
    expect(c.take()).toEqual([]);
    c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 1000 });
    expect(c.take().map(rel(c))).toEqual(['. 1:1(0) ack 1', 'F. 1:1(0) ack 1']);
    expect(c.tcb.state).toBe('FIN-WAIT-1');
  });
});

describe('closing with unread data, aborts', () => {
  test('linux: CLOSE with unread data sends RST instead of FIN (RFC 2525 §2.17, tcp_close)', () => {
    const c = inState('ESTABLISHED', linux);
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 10 });
    c.take();
    close(c.tcb, c.now);
    expect(rel(c)(c.one())).toBe('R. 1:1(0) ack 11');
    expect(c.tcb.state).toBe('CLOSED');
  });
  test('freebsd: CLOSE with unread data still sends a FIN', () => {
    const c = inState('ESTABLISHED', freebsd);
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 10 });
    c.take();
    close(c.tcb, c.now);
    expect(flagString(c.one().flags)).toBe('F.');
  });
  for (const state of ['SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT'] as const) {
    test(`§3.10.5 ABORT in ${state}: <SEQ=SND.NXT><CTL=RST> (with ACK, as both kernels), CLOSED`, () => {
      const c = inState(state);
      const sndNxt = c.tcb.sndNxt;
      abort(c.tcb, c.now);
      const r = c.one();
      expect(flagString(r.flags)).toBe('R.');
      expect(r.seq).toBe(sndNxt);
      expect(c.tcb.state).toBe('CLOSED');
      expect(c.tcb.error).toBe(null);
    });
  }
  for (const state of ['SYN-SENT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'] as const) {
    test(`§3.10.5 ABORT in ${state}: the TCB goes, nothing sent`, () => {
      const c = inState(state);
      abort(c.tcb, c.now);
      expect(c.take()).toEqual([]);
      expect(c.tcb.state).toBe('CLOSED');
    });
  }
  test('CLOSE in SYN-SENT: CLOSED, no RST (pd: close-on-syn-sent.pkt)', () => {
    const c = inState('SYN-SENT');
    close(c.tcb, c.now);
    expect(c.take()).toEqual([]);
    expect(c.tcb.state).toBe('CLOSED');
    expect(pollAt(c.tcb)).toBe(null);
  });
  test('CLOSE in LISTEN: CLOSED', () => {
    const c = new Conn();
    listen(c.tcb, 0);
    close(c.tcb, 0);
    expect(c.tcb.state).toBe('CLOSED');
  });
  test('after CLOSE, new data in FIN-WAIT-2 is answered with a reset (RFC 1122 §4.2.2.13)', () => {
    const c = inState('ESTABLISHED');
    close(c.tcb, c.now);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 2 });
    c.take();
    expect(c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 2, len: 10 })).toBe('reset');
    // The §3.10.7.1 form, <SEQ=SEG.ACK><CTL=RST> (Linux "abort on data" → tcp_v4_send_reset).
    expect(rel(c)(c.one())).toBe('R 2:2(0)');
    expect(c.tcb.state).toBe('CLOSED');
  });
  test('CLOSE in SYN-RECEIVED (simultaneous open) is kept until ESTABLISHED, then the FIN goes', () => {
    const c = inState('SYN-RECEIVED(active)');
    close(c.tcb, c.now);
    expect(c.take()).toEqual([]);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1 });
    expect(rel(c)(c.one())).toBe('F. 1:1(0) ack 1');
    expect(c.tcb.state).toBe('FIN-WAIT-1');
  });
});

describe('calls and their errors', () => {
  test('SEND on a CLOSED or LISTEN connection: ENOTCONN; after a reset: the reset error', () => {
    const c = new Conn();
    expect(send(c.tcb, new Uint8Array(1), 0)).toBe('ENOTCONN');
    listen(c.tcb, 0);
    expect(send(c.tcb, new Uint8Array(1), 0)).toBe('ENOTCONN');
    const e = inState('ESTABLISHED');
    e.arrive({ flags: 'R', seq: IRS + 1 });
    expect(send(e.tcb, new Uint8Array(1), e.now)).toBe('ECONNRESET');
    expect(receive(e.tcb, 1, e.now)).toBe('ECONNRESET');
  });
  test('SEND after CLOSE: EPIPE ("connection closing")', () => {
    const c = inState('FIN-WAIT-2');
    expect(send(c.tcb, new Uint8Array(1), c.now)).toBe('EPIPE');
  });
});
