/**
 * Reset generation (RFC 9293 §3.10.7.1 / rst.ts, for the socket layer's demux step 'none'), RFC 5961
 * challenge ACKs and their rate limits, PAWS (RFC 7323 §5), and TS.Recent updates.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { freebsd, linux } from './profiles.js';
import { resetFor } from '../../src/tcp/rst.js';
import { seqAdd } from '../../src/wire/seq.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import { IRS, ISS, activeOpen, flagString, inState, opt, optionsText, seg } from './helpers.js';

describe('resetFor (RFC 9293 §3.10.7.1)', () => {
  test('a segment with ACK: <SEQ=SEG.ACK><CTL=RST>, ports swapped, window 0, no options', () => {
    const r = resetFor(seg({ flags: 'P.', seq: 10, ack: 5000, len: 20, options: [opt.nop(), opt.nop(), opt.ts(1, 2)] }));
    expect(r).toEqual({ srcPort: 8080, dstPort: 40000, seq: 5000, ack: 0, flags: TcpFlags.RST, window: 0, urgent: 0, options: [], payload: new Uint8Array(0) });
  });
  test('a segment without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>', () => {
    const r = resetFor(seg({ flags: 'S', seq: 0xffffffff, len: 0 }));
    expect(r?.seq).toBe(0);
    expect(r?.ack).toBe(0); // wraps: 0xffffffff + 1
    expect(flagString(r?.flags ?? 0)).toBe('R.');
  });
  test('a reset is never answered', () => {
    expect(resetFor(seg({ flags: 'R', seq: 1 }))).toBe(null);
    expect(resetFor(seg({ flags: 'R.', seq: 1, ack: 2 }))).toBe(null);
  });
  test('property: the reset acknowledges exactly SEG.SEQ + SEG.LEN, or carries SEG.ACK', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff }), fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(100), (flags, s, a, len) => {
        const sg = { ...seg({ flags: '', seq: s, ack: a, len }), flags };
        const r = resetFor(sg);
        if (flags & TcpFlags.RST) return r === null;
        if (r === null) return false;
        if (flags & TcpFlags.ACK) return r.seq === a && r.flags === TcpFlags.RST && r.ack === 0;
        const segLen = len + (flags & TcpFlags.SYN ? 1 : 0) + (flags & TcpFlags.FIN ? 1 : 0);
        return r.seq === 0 && r.ack === seqAdd(s, segLen) && r.flags === (TcpFlags.RST | TcpFlags.ACK);
      }),
    );
  });
});

describe('challenge ACK rate limit (RFC 5961 §7)', () => {
  test('linux: one challenge ACK per 500 ms per connection (tcp_invalid_ratelimit)', () => {
    const c = inState('ESTABLISHED', linux);
    const inexact = () => c.arrive({ flags: 'R', seq: IRS + 100 });
    inexact();
    expect(c.take().length).toBe(1);
    c.clock.advance(100_000);
    inexact();
    inexact();
    expect(c.take().length).toBe(0);
    c.clock.advance(400_000);
    inexact();
    expect(c.take().length).toBe(1);
  });
  test('linux: out-of-window pure ACKs share that limit; data segments are not limited', () => {
    const c = inState('ESTABLISHED', linux);
    c.arrive({ flags: 'S', seq: IRS + 1 }); // challenge ACK
    expect(c.take().length).toBe(1);
    c.arrive({ flags: '.', seq: IRS + 500_000, ack: ISS + 1 }); // pure, out of window: limited
    expect(c.take().length).toBe(0);
    c.arrive({ flags: '.', seq: IRS + 500_000, ack: ISS + 1, len: 10 }); // data: not limited
    expect(c.take().length).toBe(1);
  });
  test('freebsd: five challenge ACKs per second (ack_war_cnt, ack_war_timewindow)', () => {
    const c = inState('ESTABLISHED', freebsd);
    for (let i = 0; i < 8; i++) c.arrive({ flags: 'R', seq: IRS + 100 });
    expect(c.take().length).toBe(5);
    c.clock.advance(1_000_000);
    c.arrive({ flags: 'R', seq: IRS + 100 });
    expect(c.take().length).toBe(1);
  });
  test('a challenge ACK is <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with the current window', () => {
    const c = inState('ESTABLISHED');
    c.arrive({ flags: 'S', seq: IRS + 77 });
    const a = c.one();
    expect([a.seq, a.ack, flagString(a.flags), a.window]).toEqual([ISS + 1, IRS + 1, '.', 502]);
  });
});

describe('timestamps: PAWS (RFC 7323 §5.3) and TS.Recent (§4.3)', () => {
  const withTs = () => activeOpen(linux); // the peer offered TS val 1000
  test('a segment whose TSval is older than TS.Recent is not acceptable: ACK, drop', () => {
    const c = withTs();
    expect(c.tcb.tsRecent).toBe(1000);
    expect(c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 10, options: [opt.nop(), opt.nop(), opt.ts(900, c.tcb.tsVal())] })).toBe('dropped');
    expect(c.drops()).toEqual(['paws']);
    expect(c.tcb.readable).toBe(0);
    expect(c.one().ack).toBe(IRS + 1);
  });
  test('linux tolerates a TSval one below TS.Recent (TCP_PAWS_WINDOW 1)', () => {
    const c = withTs();
    expect(c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 10, options: [opt.nop(), opt.nop(), opt.ts(999, 0)] })).toBe('accepted');
  });
  test('a RST is accepted even if it fails PAWS', () => {
    const c = withTs();
    expect(c.arrive({ flags: 'R', seq: IRS + 1, options: [opt.nop(), opt.nop(), opt.ts(5, 0)] })).toBe('reset');
  });
  test('our ACKs echo TS.Recent; a newer in-window TSval replaces it', () => {
    const c = withTs();
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, len: 10, options: [opt.nop(), opt.nop(), opt.ts(1234, c.tcb.tsVal())] });
    expect(optionsText(c.one().options)).toBe(`nop,nop,TS val ${c.tcb.tsVal()} ecr 1234`);
  });
  test('an ACK for unsent data does not update TS.Recent (pd: invalid_ack.pkt)', () => {
    const c = withTs();
    c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 9999, options: [opt.nop(), opt.nop(), opt.ts(200000, 0)] });
    expect(c.tcb.tsRecent).toBe(1000);
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, len: 1000, options: [opt.nop(), opt.nop(), opt.ts(1001, 0)] });
    expect(optionsText(c.one().options)).toMatch(/ecr 1001$/);
  });
  test('our TSval is a 1 ms clock plus the connection offset', () => {
    const c = withTs();
    const v0 = c.tcb.tsVal();
    c.clock.advance(1_500_000);
    c.tcb.now = c.now;
    expect((c.tcb.tsVal() - v0) >>> 0).toBe(1500);
  });
});
