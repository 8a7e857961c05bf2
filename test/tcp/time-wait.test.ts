/**
 * TIME-WAIT (RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.13, RFC 1337) as Linux (tcp_timewait_state_process)
 * and FreeBSD (tcp_twcheck) handle it, including the 'reopen' verdict for a new SYN.
 */
import { describe, expect, test } from 'vitest';
import { acceptSyn } from '../../src/tcp/listen.js';
import { freebsd, linux } from './profiles.js';
import { Conn, IRS, ISS, LOCAL, REMOTE, activeOpen, flagString, inState, opt, seg } from './helpers.js';
import { close, listen } from '../../src/tcp/user-calls.js';

/** A TIME-WAIT connection that negotiated timestamps (the peer's last TSval 1001). */
function timeWaitWithTs(): Conn {
  const c = activeOpen(linux);
  close(c.tcb, c.now);
  const ts = (v: number) => [opt.nop(), opt.nop(), opt.ts(v, c.tcb.tsVal())];
  c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 2, options: ts(1001) });
  expect(c.tcb.state).toBe('TIME-WAIT');
  c.take();
  return c;
}

describe('linux TIME-WAIT', () => {
  test('a SYN above RCV.NXT → reopen, ISN = SND.NXT + 65535 + 2', () => {
    const c = inState('TIME-WAIT', linux);
    expect(c.arrive({ flags: 'S', seq: IRS + 1000 })).toBe('reopen');
    expect(c.tcb.reopenIsn).toBe((ISS + 2 + 65537) >>> 0);
    expect(c.take()).toEqual([]);
    expect(c.tcb.state).toBe('TIME-WAIT');
  });
  test('a SYN below RCV.NXT but with a newer timestamp → reopen', () => {
    const c = timeWaitWithTs();
    expect(c.arrive({ flags: 'S', seq: IRS - 1000, options: [opt.mss(1460), opt.ts(5000, 0)] })).toBe('reopen');
  });
  test('a SYN below RCV.NXT without a newer timestamp → ACK (TCP_TW_ACK), stays', () => {
    const c = inState('TIME-WAIT', linux);
    expect(c.arrive({ flags: 'S', seq: IRS - 1000 })).toBe('dropped');
    const a = c.one();
    expect([flagString(a.flags), a.seq, a.ack]).toEqual(['.', ISS + 2, IRS + 2]);
    expect(c.tcb.state).toBe('TIME-WAIT');
  });
  test('a SYN at RCV.NXT (not above) → ACK', () => {
    const c = inState('TIME-WAIT', linux);
    expect(c.arrive({ flags: 'S', seq: IRS + 2 })).toBe('dropped');
    expect(flagString(c.one().flags)).toBe('.');
  });
  test('the new incarnation: acceptSyn with the reopen ISN', () => {
    const tw = inState('TIME-WAIT', linux);
    tw.arrive({ flags: 'S', seq: IRS + 1000 });
    const l = new Conn();
    listen(l.tcb, 0);
    const child = acceptSyn(l.tcb, seg({ flags: 'S', seq: IRS + 1000 }), LOCAL, REMOTE, 0, { isn: tw.tcb.reopenIsn });
    expect(child.iss).toBe(tw.tcb.reopenIsn);
    expect(l.one().seq).toBe(tw.tcb.reopenIsn);
  });
  test('RST at RCV.NXT ends TIME-WAIT (tcp_rfc1337 = 0)', () => {
    const c = inState('TIME-WAIT', linux);
    expect(c.arrive({ flags: 'R', seq: IRS + 2 })).toBe('reset');
    expect(c.tcb.state).toBe('CLOSED');
    expect(c.tcb.error).toBe(null);
  });
  test('a bare ACK at RCV.NXT restarts the timer, no reply', () => {
    const c = inState('TIME-WAIT', linux);
    c.clock.advance(30_000_000);
    expect(c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 2 })).toBe('accepted');
    expect(c.take()).toEqual([]);
    expect(c.tcb.timeWaitAt).toBe(c.now + 60_000_000);
  });
  test('"a retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."', () => {
    const c = inState('TIME-WAIT', linux);
    c.clock.advance(10_000_000);
    c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 2 });
    expect(c.one().ack).toBe(IRS + 2);
    expect(c.tcb.timeWaitAt).toBe(c.now + 60_000_000);
  });
  test('PAWS: an old timestamp is not accepted even at RCV.NXT (ACK, timer restarted)', () => {
    const c = timeWaitWithTs();
    expect(c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 2, options: [opt.nop(), opt.nop(), opt.ts(10, 0)] })).toBe('dropped');
    expect(c.drops()).toEqual(['paws']);
    expect(c.one().ack).toBe(IRS + 2);
  });
});

describe('freebsd TIME-WAIT', () => {
  test('a SYN above RCV.NXT → reopen with a fresh ISN', () => {
    const c = inState('TIME-WAIT', freebsd);
    expect(c.arrive({ flags: 'S', seq: IRS + 1000 })).toBe('reopen');
    expect(c.tcb.reopenIsn).toBe(0);
  });
  test('a SYN at RCV.NXT → dropped, nothing sent (pd: rcv-syn-time-wait, FreeBSD branch)', () => {
    const c = inState('TIME-WAIT', freebsd);
    expect(c.arrive({ flags: 'S', seq: IRS + 2 })).toBe('dropped');
    expect(c.take()).toEqual([]);
  });
  test('RST is ignored (RFC 1337; pd: rcv-rst-time-wait-using-shutdown-left-edge-secure-ipv4.pkt)', () => {
    const c = inState('TIME-WAIT', freebsd);
    expect(c.arrive({ flags: 'R', seq: IRS + 2 })).toBe('dropped');
    expect(c.tcb.state).toBe('TIME-WAIT');
  });
  test('an ACK that is not an exact duplicate is acknowledged (pd: rcv-ack-time-wait-using-shutdown-middle-ipv4.pkt)', () => {
    const c = inState('TIME-WAIT', freebsd);
    c.arrive({ flags: '.', seq: IRS + 3, ack: ISS + 2 });
    expect(c.one().ack).toBe(IRS + 2);
    c.arrive({ flags: '.', seq: IRS + 2, ack: ISS + 2 });
    expect(c.take()).toEqual([]);
  });
  test('a duplicate FIN restarts the timer and is acknowledged', () => {
    const c = inState('TIME-WAIT', freebsd);
    c.clock.advance(5_000_000);
    c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 2 });
    expect(c.one().ack).toBe(IRS + 2);
    expect(c.tcb.timeWaitAt).toBe(c.now + 60_000_000);
  });
});
