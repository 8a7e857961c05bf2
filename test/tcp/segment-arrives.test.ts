/**
 * RFC 9293 §3.10.7 SEGMENT ARRIVES, state by state and check by check. Each title names the paragraph it
 * exercises. Connections come from helpers.inState (peer without timestamps, wscale 7 both ways).
 */
import { describe, expect, test } from 'vitest';
import { freebsd, linux, type Personality } from './profiles.js';
import { segmentArrives } from '../../src/tcp/segment-arrives.js';
import { Tcb } from '../../src/tcp/tcb.js';
import { listen, send } from '../../src/tcp/user-calls.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import { Conn, IRS, ISS, describe as d, flagString, inState, makeEnv, opt, seg, type StateName } from './helpers.js';

const ACK = TcpFlags.ACK;

const SYNCHRONIZED: StateName[] = ['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK'];
const BOTH: Personality[] = [linux, freebsd];

function sndNxtOf(c: Conn): number {
  return c.tcb.sndNxt;
}

describe('§3.10.7.1 CLOSED', () => {
  const closed = (): Conn => new Conn();
  test('§3.10.7.1: CLOSED, RST → discarded, nothing sent', () => {
    const c = closed();
    expect(c.arrive({ flags: 'R', seq: 5 })).toBe('dropped');
    expect(c.take()).toEqual([]);
    expect(c.drops()).toEqual(['closed']);
  });
  test('§3.10.7.1: CLOSED, ACK → <SEQ=SEG.ACK><CTL=RST>', () => {
    const c = closed();
    c.arrive({ flags: '.', seq: 100, ack: 777, len: 3 });
    const r = c.one();
    expect(flagString(r.flags)).toBe('R');
    expect(r.seq).toBe(777);
    expect(r.ack).toBe(0);
    expect(r.window).toBe(0);
    expect(r.options).toEqual([]);
  });
  test('§3.10.7.1: CLOSED, no ACK → <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and FIN count)', () => {
    const c = closed();
    c.arrive({ flags: 'SF', seq: 100, len: 10 });
    const r = c.one();
    expect(flagString(r.flags)).toBe('R.');
    expect(r.seq).toBe(0);
    expect(r.ack).toBe(112);
    expect(r.srcPort).toBe(8080);
    expect(r.dstPort).toBe(40000);
  });
});

describe('§3.10.7.2 LISTEN', () => {
  const listener = (): Conn => {
    const c = new Conn();
    listen(c.tcb, 0);
    c.events = [];
    return c;
  };
  test('§3.10.7.2 first: LISTEN, RST → ignored', () => {
    const c = listener();
    expect(c.arrive({ flags: 'R', seq: 1 })).toBe('dropped');
    expect(c.take()).toEqual([]);
    expect(c.drops()).toEqual(['listen-rst']);
  });
  test('§3.10.7.2 first: LISTEN, SYN+RST → ignored (pd: listen-incoming-syn-rst.pkt)', () => {
    const c = listener();
    expect(c.arrive({ flags: 'SR', seq: 1 })).toBe('dropped');
    expect(c.take()).toEqual([]);
  });
  test('§3.10.7.2 second: LISTEN, ACK → <SEQ=SEG.ACK><CTL=RST>, still LISTEN', () => {
    const c = listener();
    c.arrive({ flags: '.', seq: 1, ack: 34 });
    expect(d(c.one())).toBe('R 34:34(0) win 0');
    expect(c.tcb.state).toBe('LISTEN');
  });
  test('§3.10.7.2 second: LISTEN, SYN-ACK → RST too (Linux answers it, pd: listen-incoming-syn-ack)', () => {
    const c = listener();
    c.arrive({ flags: 'S.', seq: 1, ack: 99 });
    expect(d(c.one())).toBe('R 99:99(0) win 0');
  });
  test('§3.10.7.2 third: LISTEN, SYN → "listen-syn": the listener itself does not change state', () => {
    const c = listener();
    expect(c.arrive({ flags: 'S', seq: 1, options: [opt.mss(1460)] })).toBe('listen-syn');
    expect(c.tcb.state).toBe('LISTEN');
    expect(c.take()).toEqual([]);
    expect(c.states()).toEqual([]);
  });
  test('§3.10.7.2 third: LISTEN, SYN+FIN → dropped (Linux tcp_rcv_state_process)', () => {
    const c = listener();
    expect(c.arrive({ flags: 'SF', seq: 1 })).toBe('dropped');
    expect(c.drops()).toEqual(['listen-syn-fin']);
  });
  test('§3.10.7.2 fourth: LISTEN, FIN without ACK → dropped (pd: rcv-fin-without-data-listen-ipv4.pkt)', () => {
    const c = listener();
    expect(c.arrive({ flags: 'F', seq: 1 })).toBe('dropped');
    expect(c.take()).toEqual([]);
    expect(c.drops()).toEqual(['listen-no-syn']);
  });
  test('§3.10.7.2 fourth: LISTEN, data without flags → dropped', () => {
    const c = listener();
    expect(c.arrive({ flags: '-', seq: 1, len: 5 })).toBe('dropped');
    expect(c.take()).toEqual([]);
  });
});

describe('§3.10.7.3 SYN-SENT', () => {
  for (const p of BOTH) {
    test(`§3.10.7.3 first: ${p.name} SYN-SENT, SEG.ACK =< ISS → <SEQ=SEG.ACK><CTL=RST>, still SYN-SENT`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: 'S.', seq: IRS, ack: ISS })).toBe('dropped');
      const r = c.one();
      expect(flagString(r.flags)).toBe('R');
      expect(r.seq).toBe(ISS);
      expect(c.tcb.state).toBe('SYN-SENT');
      expect(c.drops()).toEqual(['syn-sent-bad-ack']);
    });
    test(`§3.10.7.3 first: ${p.name} SYN-SENT, SEG.ACK > SND.NXT → RST, still SYN-SENT`, () => {
      const c = inState('SYN-SENT', p);
      c.arrive({ flags: '.', seq: IRS, ack: ISS + 2 });
      expect(d(c.one(), ISS)).toBe('R 2:2(0) win 0');
      expect(c.tcb.state).toBe('SYN-SENT');
    });
    test(`§3.10.7.3 first: ${p.name} SYN-SENT, bad ACK with RST → dropped, nothing sent`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: 'R.', seq: IRS, ack: ISS + 5 })).toBe('dropped');
      expect(c.take()).toEqual([]);
      expect(c.tcb.state).toBe('SYN-SENT');
    });
    test(`§3.10.7.3 second: ${p.name} SYN-SENT, RST with an acceptable ACK → CLOSED, "connection reset" (ECONNREFUSED)`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: 'R.', seq: 0, ack: ISS + 1 })).toBe('reset');
      expect(c.tcb.state).toBe('CLOSED');
      expect(c.tcb.error).toBe('ECONNREFUSED');
      expect(c.take()).toEqual([]);
    });
    test(`§3.10.7.3 second: ${p.name} SYN-SENT, RST without ACK → dropped (pd: rcv-rst-without-data-syn-sent-ipv4.pkt)`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: 'R', seq: IRS })).toBe('dropped');
      expect(c.tcb.state).toBe('SYN-SENT');
      expect(c.take()).toEqual([]);
    });
    test(`§3.10.7.3 fourth: ${p.name} SYN-SENT, SYN-ACK acking our SYN → ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 1000, options: [opt.mss(1400)] })).toBe('accepted');
      const a = c.one();
      expect(d(a, ISS, IRS)).toMatch(/^\. 1:1\(0\) ack 1 win \d+$/);
      expect(c.tcb.state).toBe('ESTABLISHED');
      expect(c.tcb.irs).toBe(IRS);
      expect(c.tcb.sndUna).toBe(ISS + 1);
      expect(c.tcb.sndWnd).toBe(1000);
    });
    test(`§3.10.7.3 fourth: ${p.name} SYN-SENT, SYN alone → SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: 'S', seq: IRS, options: [opt.mss(1460)] })).toBe('accepted');
      const sa = c.one();
      expect(flagString(sa.flags)).toBe('S.');
      expect(sa.seq).toBe(ISS);
      expect(sa.ack).toBe(IRS + 1);
      expect(c.tcb.state).toBe('SYN-RECEIVED');
    });
    test(`§3.10.7.3 fifth: ${p.name} SYN-SENT, neither SYN nor RST (acceptable ACK) → dropped`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: '.', seq: IRS, ack: ISS + 1 })).toBe('dropped');
      expect(c.take()).toEqual([]);
      expect(c.drops()).toEqual(['syn-sent-no-syn']);
    });
    test(`§3.10.7.3 fifth: ${p.name} SYN-SENT, FIN without ACK → dropped (pd: rcv-fin-without-data-syn-sent-ipv4.pkt)`, () => {
      const c = inState('SYN-SENT', p);
      expect(c.arrive({ flags: 'F', seq: IRS })).toBe('dropped');
      expect(c.tcb.state).toBe('SYN-SENT');
    });
  }
  test('§3.10.7.3 fourth: "continue processing at the sixth step" — linux ignores text on a SYN-ACK', () => {
    const c = inState('SYN-SENT', linux);
    c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, len: 5 });
    expect(c.one().ack).toBe(IRS + 1);
    expect(c.tcb.readable).toBe(0);
  });
  test('§3.10.7.3 fourth: "continue processing at the sixth step" — freebsd keeps text on a SYN-ACK', () => {
    const c = inState('SYN-SENT', freebsd);
    c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, len: 5 });
    expect(c.one().ack).toBe(IRS + 6);
    expect(c.tcb.readable).toBe(5);
  });
  test('§3.10.7.3 first: linux rearms the SYN timer to 2 ms after a SYN-ACK with a bad ACK', () => {
    const c = inState('SYN-SENT', linux);
    c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 9 });
    expect(c.tcb.rtxAt).toBe(c.now + 2000);
  });
});

describe('§3.10.7.4 first: sequence number check', () => {
  for (const p of BOTH) {
    for (const state of [...SYNCHRONIZED, 'SYN-RECEIVED' as const, 'TIME-WAIT' as const]) {
      test(`§3.10.7.4 first: ${p.name} ${state}, unacceptable segment (beyond the window) → ACK, drop`, () => {
        const c = inState(state, p);
        const rcvNxt = c.tcb.rcvNxt;
        const before = c.tcb.state;
        expect(c.arrive({ flags: '.', seq: rcvNxt + 200_000, ack: c.tcb.sndNxt, len: 10 })).toBe('dropped');
        const a = c.one();
        expect(a.flags & ACK).toBe(ACK);
        expect(a.ack).toBe(rcvNxt);
        expect(c.tcb.state).toBe(before);
        expect(c.tcb.rcvNxt).toBe(rcvNxt);
      });
      test(`§3.10.7.4 first: ${p.name} ${state}, unacceptable RST → dropped, nothing sent`, () => {
        const c = inState(state, p);
        const before = c.tcb.state;
        expect(c.arrive({ flags: 'R', seq: c.tcb.rcvNxt + 200_000 })).toBe('dropped');
        expect(c.take()).toEqual([]);
        expect(c.tcb.state).toBe(before);
      });
    }
  }
  test('§3.10.7.4 first: linux ESTABLISHED, wholly old data (before RCV.WUP) → duplicate ACK', () => {
    const c = inState('ESTABLISHED');
    expect(c.arrive({ flags: 'P.', seq: IRS - 99, ack: ISS + 1, len: 50 })).toBe('dropped');
    expect(d(c.one(), ISS, IRS)).toMatch(/^\. 1:1\(0\) ack 1 /);
    expect(c.drops()).toEqual(['unacceptable-seq']);
  });
  test('§3.10.7.4 first: freebsd ESTABLISHED, wholly old data → its ACK is still processed, then an ACK', () => {
    const c = inState('ESTABLISHED', freebsd);
    send(c.tcb, new Uint8Array(10), c.now);
    c.take();
    c.arrive({ flags: 'P.', seq: IRS - 99, ack: ISS + 11, len: 50 });
    expect(c.tcb.sndUna).toBe(ISS + 11);
    expect(d(c.one(), ISS, IRS)).toMatch(/^\. 11:11\(0\) ack 1 /);
  });
  test('§3.10.7.4 first: zero window — a segment at RCV.NXT is processed for its ACK, its text dropped', () => {
    const c = inState('ESTABLISHED', freebsd);
    c.tcb.rcvWnd = 0;
    c.tcb.rcvWup = c.tcb.rcvNxt;
    c.tcb.rcvSpace = c.tcb.rcvBuf.length; // no room at all
    expect(c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, win: 777, len: 10 })).toBe('accepted');
    expect(c.tcb.readable).toBe(0);
    expect(c.tcb.sndWnd).toBe(777 * 128);
    expect(c.one().ack).toBe(IRS + 1);
  });
  test('§3.10.7.4 first: rfc9293 test, zero-length segment at the window edge is unacceptable', () => {
    const p: Personality = { ...freebsd, validation: 'rfc9293', checkWindow: 'advertised' };
    const c = inState('ESTABLISHED', p);
    const edge = c.tcb.rcvNxt + c.tcb.rcvWindow;
    expect(c.arrive({ flags: '.', seq: edge, ack: ISS + 1 })).toBe('dropped');
    expect(c.arrive({ flags: '.', seq: edge - 1, ack: ISS + 1 })).toBe('accepted');
  });
  test('§3.10.7.4 first: linux tcp_sequence accepts a segment starting right at the window edge', () => {
    const c = inState('ESTABLISHED', linux);
    const edge = c.tcb.rcvNxt + c.tcb.rcvWindow;
    expect(c.arrive({ flags: '.', seq: edge, ack: ISS + 1 })).toBe('accepted');
    expect(c.arrive({ flags: '.', seq: edge + 1, ack: ISS + 1 })).toBe('dropped');
  });
  test('§3.10.7.4 first: linux drops a segment with none of ACK, RST, SYN before any check (pd: validate-established-no-flags.pkt)', () => {
    const c = inState('ESTABLISHED', linux);
    expect(c.arrive({ flags: '-', seq: IRS + 1, len: 100 })).toBe('dropped');
    expect(c.take()).toEqual([]);
    expect(c.tcb.readable).toBe(0);
    expect(c.drops()).toEqual(['no-ack-rst-syn']);
  });
});

describe('§3.10.7.4 second: RST', () => {
  const errors: Record<string, [string | null, string | null]> = {
    // state: [linux error, freebsd error]
    ESTABLISHED: ['ECONNRESET', 'ECONNRESET'],
    'FIN-WAIT-1': ['ECONNRESET', 'ECONNRESET'],
    'FIN-WAIT-2': ['ECONNRESET', 'ECONNRESET'],
    'CLOSE-WAIT': ['EPIPE', 'ECONNRESET'],
    CLOSING: ['ECONNRESET', 'ECONNRESET'],
    'LAST-ACK': ['ECONNRESET', 'ECONNRESET'],
    'SYN-RECEIVED(active)': ['ECONNRESET', 'ECONNREFUSED'],
    'SYN-RECEIVED': [null, null],
  };
  for (const p of BOTH) {
    for (const [state, errs] of Object.entries(errors)) {
      test(`§3.10.7.4 second: ${p.name} ${state}, RST at RCV.NXT → CLOSED, error ${String(errs[p === linux ? 0 : 1])}`, () => {
        const c = inState(state as StateName, p);
        expect(c.arrive({ flags: 'R', seq: c.tcb.rcvNxt })).toBe('reset');
        expect(c.tcb.state).toBe('CLOSED');
        expect(c.tcb.error).toBe(errs[p === linux ? 0 : 1]);
        expect(c.take()).toEqual([]);
      });
    }
    for (const state of [...SYNCHRONIZED, 'SYN-RECEIVED(active)' as const]) {
      test(`§3.10.7.4 second: ${p.name} ${state}, RST in the window but not at RCV.NXT → challenge ACK (RFC 5961 §3.2)`, () => {
        const c = inState(state, p);
        const before = c.tcb.state;
        expect(c.arrive({ flags: 'R', seq: c.tcb.rcvNxt + 10 })).toBe('dropped');
        const a = c.one();
        expect(flagString(a.flags)).toBe('.');
        expect(a.seq).toBe(sndNxtOf(c));
        expect(a.ack).toBe(c.tcb.rcvNxt);
        expect(c.tcb.state).toBe(before);
        expect(c.drops()).toEqual(['rst-not-exact']);
      });
    }
  }
  test('§3.10.7.4 second: linux SYN-RECEIVED (request socket), RST in the window → the embryonic connection goes, no challenge', () => {
    const c = inState('SYN-RECEIVED', linux);
    expect(c.arrive({ flags: 'R', seq: IRS + 10 })).toBe('reset');
    expect(c.tcb.state).toBe('CLOSED');
    expect(c.take()).toEqual([]);
  });
  test('§3.10.7.4 second: freebsd SYN-RECEIVED, inexact RST → challenge ACK (pd: rcv-rst-syn-rcvd-via-listen-right-edge-secure-ipv4.pkt)', () => {
    const c = inState('SYN-RECEIVED', freebsd);
    c.arrive({ flags: 'R', seq: IRS + 10 });
    expect(d(c.one(), ISS, IRS)).toMatch(/^\. 1:1\(0\) ack 1 /);
    expect(c.tcb.state).toBe('SYN-RECEIVED');
  });
  test('§3.10.7.4 second: linux CLOSE-WAIT, RST at RCV.NXT-1 (after the FIN) is accepted (tcp_reset_check)', () => {
    const c = inState('CLOSE-WAIT', linux);
    expect(c.arrive({ flags: 'R', seq: c.tcb.rcvNxt - 1 })).toBe('reset');
  });
  test('§3.10.7.4 second: without RFC 5961, any RST in the window resets (RFC 793)', () => {
    const p: Personality = { ...linux, rfc5961: { rst: false, syn: false, ack: false } };
    const c = inState('ESTABLISHED', p);
    expect(c.arrive({ flags: 'R', seq: c.tcb.rcvNxt + 10 })).toBe('reset');
    expect(c.tcb.error).toBe('ECONNRESET');
  });
});

describe('§3.10.7.4 fourth: SYN', () => {
  for (const p of BOTH) {
    for (const state of SYNCHRONIZED) {
      test(`§3.10.7.4 fourth: ${p.name} ${state}, SYN at RCV.NXT → challenge ACK (RFC 5961 §4.2), state kept`, () => {
        const c = inState(state, p);
        const before = c.tcb.state;
        expect(c.arrive({ flags: 'S', seq: c.tcb.rcvNxt, options: [opt.mss(1460)] })).toBe('dropped');
        const a = c.one();
        expect(flagString(a.flags)).toBe('.');
        expect(a.ack).toBe(c.tcb.rcvNxt);
        expect(c.tcb.state).toBe(before);
      });
      test(`§3.10.7.4 fourth: ${p.name} ${state}, SYN outside the window → challenge ACK too ("irrespective of the sequence number")`, () => {
        const c = inState(state, p);
        c.arrive({ flags: 'S', seq: c.tcb.rcvNxt - 1000 });
        expect(flagString(c.one().flags)).toBe('.');
      });
    }
  }
  test('§3.10.7.4 fourth: linux SYN-RECEIVED (passive), a new SYN in the window → RST, connection gone (tcp_check_req)', () => {
    const c = inState('SYN-RECEIVED', linux);
    expect(c.arrive({ flags: 'S', seq: IRS + 5 })).toBe('reset');
    const r = c.one();
    expect(flagString(r.flags)).toBe('R.');
    expect(c.tcb.state).toBe('CLOSED');
  });
  for (const p of BOTH) {
    test(`§3.10.7.4 fourth: ${p.name} SYN-RECEIVED (passive), the SYN again (same ISN) → the SYN-ACK again`, () => {
      const c = inState('SYN-RECEIVED', p);
      expect(c.arrive({ flags: 'S', seq: IRS, options: [opt.mss(1460)] })).toBe('dropped');
      const sa = c.one();
      expect(flagString(sa.flags)).toBe('S.');
      expect(sa.seq).toBe(ISS);
      expect(c.drops()).toEqual(['syn-retransmit']);
    });
  }
  test('§3.10.7.4 fourth: freebsd SYN-RECEIVED (passive), another SYN → "return this connection to the LISTEN state"', () => {
    const c = inState('SYN-RECEIVED', freebsd);
    expect(c.arrive({ flags: 'S', seq: IRS + 5 })).toBe('reset');
    expect(c.tcb.state).toBe('CLOSED');
  });
  test('§3.10.7.4 fourth: SYN-RECEIVED (active), the crossed SYN-ACK completes the open (RFC 9293 §3.5 figure 7)', () => {
    const c = inState('SYN-RECEIVED(active)', linux);
    expect(c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 100 })).toBe('accepted');
    expect(c.tcb.state).toBe('ESTABLISHED');
    // Its SYN is one already taken: Linux ACKs at once (tcp_data_queue, "A retransmit"), as in
    // fixtures/simultaneous-open-v4.pcap frame 7, with a D-SACK block for that SYN (SACK was agreed).
    expect(c.tcb.sackOk).toBe(true);
    const ack = c.one();
    expect(flagString(ack.flags)).toBe('.');
    expect(ack.seq).toBe(ISS + 1);
    expect(ack.ack).toBe(IRS + 1);
    expect(ack.options.find((o) => o.kind === 'sack')).toEqual({ kind: 'sack', blocks: [[IRS, IRS + 1]] });
  });
  test('§3.10.7.4 fourth: without RFC 5961, a SYN in the window is an error: reset, CLOSED', () => {
    const p: Personality = { ...linux, rfc5961: { rst: false, syn: false, ack: false } };
    const c = inState('ESTABLISHED', p);
    expect(c.arrive({ flags: 'S', seq: c.tcb.rcvNxt + 3 })).toBe('reset');
    expect(flagString(c.one().flags)).toBe('R.');
    expect(c.tcb.error).toBe('ECONNRESET');
  });
});

describe('§3.10.7.4 fifth: ACK', () => {
  for (const p of BOTH) {
    test(`§3.10.7.4 fifth: ${p.name} ESTABLISHED, ACK bit off → dropped`, () => {
      const c = inState('ESTABLISHED', p);
      expect(c.arrive({ flags: 'P', seq: IRS + 1, len: 10 })).toBe('dropped');
      expect(c.tcb.readable).toBe(0);
      expect(c.take()).toEqual([]);
    });
    test(`§3.10.7.4 fifth: ${p.name} SYN-RECEIVED, SND.UNA < SEG.ACK =< SND.NXT → ESTABLISHED, SND.WND from the segment (scaled)`, () => {
      const c = inState('SYN-RECEIVED', p);
      expect(c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 300 })).toBe('accepted');
      expect(c.tcb.state).toBe('ESTABLISHED');
      expect(c.tcb.sndWnd).toBe(300 * 128);
      expect(c.tcb.sndWl1).toBe(IRS + 1);
      expect(c.tcb.sndWl2).toBe(ISS + 1);
      expect(c.states()).toEqual(['SYN-RECEIVED>ESTABLISHED:segment']);
    });
    test(`§3.10.7.4 fifth: ${p.name} SYN-RECEIVED, unacceptable ACK → <SEQ=SEG.ACK><CTL=RST>, connection kept`, () => {
      const c = inState('SYN-RECEIVED', p);
      expect(c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 50 })).toBe('dropped');
      const r = c.one();
      expect(flagString(r.flags)).toBe('R');
      expect(r.seq).toBe(ISS + 50);
      expect(c.tcb.state).toBe('SYN-RECEIVED');
    });
    test(`§3.10.7.4 fifth: ${p.name} SYN-RECEIVED, FIN with the ACK → ESTABLISHED then CLOSE-WAIT (eighth)`, () => {
      const c = inState('SYN-RECEIVED', p);
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 1 });
      expect(c.tcb.state).toBe('CLOSE-WAIT');
      expect(c.tcb.rcvNxt).toBe(IRS + 2);
    });
    test(`§3.10.7.4 fifth: ${p.name} FIN-WAIT-1, ACK of our FIN → FIN-WAIT-2`, () => {
      const c = inState('FIN-WAIT-1', p);
      expect(c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 2 })).toBe('accepted');
      expect(c.tcb.state).toBe('FIN-WAIT-2');
    });
    test(`§3.10.7.4 fifth: ${p.name} FIN-WAIT-1, ACK not covering the FIN → stays`, () => {
      const c = inState('FIN-WAIT-1', p);
      c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1 });
      expect(c.tcb.state).toBe('FIN-WAIT-1');
    });
    test(`§3.10.7.4 fifth: ${p.name} CLOSING, ACK of our FIN → TIME-WAIT`, () => {
      const c = inState('CLOSING', p);
      c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 2 });
      expect(c.tcb.state).toBe('TIME-WAIT');
      expect(c.tcb.timeWaitAt).toBe(c.now + p.timeWaitUs);
    });
    test(`§3.10.7.4 fifth: ${p.name} LAST-ACK, ACK of our FIN → CLOSED ("delete the TCB")`, () => {
      const c = inState('LAST-ACK', p);
      c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 2 });
      expect(c.tcb.state).toBe('CLOSED');
      expect(c.tcb.error).toBe(null);
      expect(c.take()).toEqual([]);
    });
    test(`§3.10.7.4 fifth: ${p.name} ESTABLISHED, duplicate ACK (SEG.ACK < SND.UNA) ignored, data still taken`, () => {
      const c = inState('ESTABLISHED', p);
      // Old acks are "duplicates" only after something was acknowledged; use an ACK at SND.UNA-0.
      expect(c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 10 })).toBe('accepted');
      expect(c.tcb.readable).toBe(10);
    });
  }
  test('§3.10.7.4 fifth: linux ESTABLISHED, SEG.ACK > SND.NXT → dropped silently (tcp_ack)', () => {
    const c = inState('ESTABLISHED', linux);
    expect(c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 500, len: 10 })).toBe('dropped');
    expect(c.take()).toEqual([]);
    expect(c.tcb.readable).toBe(0);
    expect(c.drops()).toEqual(['ack-unsent']);
  });
  test('§3.10.7.4 fifth: linux CLOSE-WAIT, SEG.ACK > SND.NXT → challenge ACK', () => {
    const c = inState('CLOSE-WAIT', linux);
    c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 500 });
    expect(flagString(c.one().flags)).toBe('.');
  });
  test('§3.10.7.4 fifth: freebsd ESTABLISHED, SEG.ACK > SND.NXT → "send an ACK, drop the segment"', () => {
    const c = inState('ESTABLISHED', freebsd);
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 500, len: 10 });
    expect(flagString(c.one().flags)).toBe('.');
    expect(c.tcb.readable).toBe(0);
  });
  test('§3.10.7.4 fifth: linux ESTABLISHED, SEG.ACK below SND.UNA - MAX.SND.WND → challenge ACK (RFC 5961 §5.2)', () => {
    const c = inState('ESTABLISHED', linux);
    expect(c.arrive({ flags: '.', seq: IRS + 1, ack: ISS - 10 })).toBe('dropped');
    expect(flagString(c.one().flags)).toBe('.');
    expect(c.drops()).toEqual(['ack-too-old']);
  });
  test('§3.10.7.4 fifth: send window updated only from a newer segment (SND.WL1/SND.WL2)', () => {
    const c = inState('ESTABLISHED', linux);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 10 });
    expect(c.tcb.sndWnd).toBe(10 * 128);
    c.tcb.sndWl1 = IRS + 5; // pretend a later segment already set it
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 99 });
    expect(c.tcb.sndWnd).toBe(10 * 128);
  });
});

describe('§3.10.7.4 sixth, seventh, eighth: URG, text, FIN', () => {
  test('§3.10.7.4 sixth: ESTABLISHED, URG → RCV.UP <- max(RCV.UP, SEG.UP)', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'U.', seq: IRS + 1, ack: ISS + 1, len: 10, urgent: 5 });
    expect(c.tcb.rcvUp).toBe(IRS + 6);
  });
  test('§3.10.7.4 sixth: CLOSE-WAIT, URG ignored', () => {
    const c = inState('CLOSE-WAIT');
    const up = c.tcb.rcvUp;
    c.arrive({ flags: 'U.', seq: IRS + 2, ack: ISS + 1, urgent: 5 });
    expect(c.tcb.rcvUp).toBe(up);
  });
  for (const p of BOTH) {
    for (const state of ['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2'] as const) {
      test(`§3.10.7.4 seventh: ${p.name} ${state}, text → delivered in order, RCV.NXT advanced`, () => {
        const c = inState(state, p);
        expect(c.arrive({ flags: 'P.', seq: IRS + 1, ack: c.tcb.sndUna, len: 100 })).toBe('accepted');
        expect(c.tcb.readable).toBe(100);
        expect(c.tcb.rcvNxt).toBe(IRS + 101);
      });
    }
    for (const state of ['CLOSE-WAIT', 'CLOSING', 'LAST-ACK'] as const) {
      test(`§3.10.7.4 seventh: ${p.name} ${state}, text after the FIN → ignored`, () => {
        const c = inState(state, p);
        c.arrive({ flags: 'P.', seq: IRS + 2, ack: c.tcb.sndUna, len: 100 });
        expect(c.tcb.readable).toBe(0);
        expect(c.tcb.rcvNxt).toBe(IRS + 2);
      });
    }
    test(`§3.10.7.4 eighth: ${p.name} ESTABLISHED, FIN → CLOSE-WAIT, RCV.NXT over the FIN, ACK`, () => {
      const c = inState('ESTABLISHED', p);
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 1 });
      expect(c.tcb.state).toBe('CLOSE-WAIT');
      expect(c.tcb.rcvNxt).toBe(IRS + 2);
      expect(c.one().ack).toBe(IRS + 2);
    });
    test(`§3.10.7.4 eighth: ${p.name} FIN-WAIT-1, FIN not acking ours → CLOSING, ACK`, () => {
      const c = inState('FIN-WAIT-1', p);
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 1 });
      expect(c.tcb.state).toBe('CLOSING');
      const a = c.one();
      expect(a.ack).toBe(IRS + 2);
      // FreeBSD's output path resends the FIN with it (pd: closing-ipv4.pkt `> F. 1:1(0) ack 2`).
      expect(flagString(a.flags)).toBe(p === freebsd ? 'F.' : '.');
    });
    test(`§3.10.7.4 eighth: ${p.name} FIN-WAIT-1, FIN acking ours → TIME-WAIT`, () => {
      const c = inState('FIN-WAIT-1', p);
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 2 });
      expect(c.tcb.state).toBe('TIME-WAIT');
      expect(d(c.one(), ISS, IRS)).toMatch(/^\. 2:2\(0\) ack 2 /);
    });
    test(`§3.10.7.4 eighth: ${p.name} FIN-WAIT-2, FIN → TIME-WAIT, ACK, 2MSL timer`, () => {
      const c = inState('FIN-WAIT-2', p);
      c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 2 });
      expect(c.tcb.state).toBe('TIME-WAIT');
      expect(c.one().ack).toBe(IRS + 2);
      expect(c.tcb.timeWaitAt).toBe(c.now + 60_000_000);
    });
    for (const state of ['CLOSE-WAIT', 'CLOSING', 'LAST-ACK'] as const) {
      test(`§3.10.7.4 eighth: ${p.name} ${state}, the FIN again → stays, ACK`, () => {
        const c = inState(state, p);
        c.arrive({ flags: 'F.', seq: IRS + 1, ack: c.tcb.sndUna });
        expect(c.tcb.state).toBe(state);
        const out = c.take();
        expect(out.length).toBe(1);
        expect(out[0]?.ack).toBe(IRS + 2);
      });
    }
  }
  test('§3.10.7.4 eighth: a FIN ahead of RCV.NXT waits in the out-of-order queue', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'F.', seq: IRS + 11, ack: ISS + 1 });
    expect(c.tcb.state).toBe('ESTABLISHED');
    c.take();
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, len: 10 });
    expect(c.tcb.state).toBe('CLOSE-WAIT');
    expect(c.tcb.rcvNxt).toBe(IRS + 12);
    expect(c.tcb.readable).toBe(10);
  });
});

describe('segmentArrives reports', () => {
  test('drop events carry the segment and the reason; state events the cause', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'R', seq: c.tcb.rcvNxt + 10 });
    const drop = c.events.find((e) => e.type === 'drop');
    expect(drop?.type === 'drop' && drop.reason).toBe('rst-not-exact');
    expect(drop?.type === 'drop' && drop.seg.flags).toBe(TcpFlags.RST);
    c.arrive({ flags: 'R', seq: c.tcb.rcvNxt });
    expect(c.states()).toEqual(['ESTABLISHED>CLOSED:segment']);
  });
  test('no onEvent hook: nothing is reported, nothing breaks', () => {
    const out: unknown[] = [];
    const t = new Tcb({ env: makeEnv(), local: { addr: '10.0.0.1', port: 1 }, hooks: { output: (s) => out.push(s) } });
    expect(segmentArrives(t, seg({ flags: '.', seq: 1, ack: 5 }), 0)).toBe('dropped');
    expect(out.length).toBe(1);
  });
});
