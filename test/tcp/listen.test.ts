/**
 * Listeners and SYN cookies: listenerSegment's verdicts (§3.10.7.2), acceptSyn, and the Linux-style
 * cookie layout (syncookies.ts) from SYN to a rebuilt ESTABLISHED connection.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { acceptSyn, listenerSegment, synCookieReply } from '../../src/tcp/listen.js';
import { freebsd, linux } from './profiles.js';
import {
  COOKIE_MSS_IPV4,
  cookieTsOptions,
  cookieTsVal,
  decodeCookie,
  encodeCookie,
  keyFrom,
  mssIndex,
} from '../../src/tcp/syncookies.js';
import { listen, status } from '../../src/tcp/user-calls.js';
import { seededRandom } from '../../src/testing/random.js';
import { Conn, IRS, LOCAL, REMOTE, flagString, makeEnv, opt, optionsShape, seg } from './helpers.js';

function listener(p = linux): Conn {
  const c = new Conn(makeEnv(), { personality: p });
  listen(c.tcb, 0);
  return c;
}

describe('listenerSegment (§3.10.7.2)', () => {
  test('a SYN → { action: "syn" }, nothing sent, listener unchanged', () => {
    const l = listener();
    expect(listenerSegment(l.tcb, seg({ flags: 'S', seq: 1 }), LOCAL, REMOTE, 0)).toEqual({ action: 'syn' });
    expect(l.take()).toEqual([]);
    expect(l.tcb.state).toBe('LISTEN');
  });
  test('an ACK → the reset to send, <SEQ=SEG.ACK><CTL=RST> (pd: listen-incoming-ack.pkt `> R 0:0(0) win 0`)', () => {
    const l = listener();
    const v = listenerSegment(l.tcb, seg({ flags: '.', seq: 1, ack: 0 }), LOCAL, REMOTE, 0);
    expect(v.action).toBe('rst');
    if (v.action !== 'rst') return;
    expect([flagString(v.reply.flags), v.reply.seq, v.reply.window]).toEqual(['R', 0, 0]);
    expect(l.take()).toEqual([]); // returned, not sent: the caller addresses it
  });
  test('a RST → dropped; FIN only → dropped; SYN+FIN → dropped', () => {
    const l = listener();
    expect(listenerSegment(l.tcb, seg({ flags: 'R', seq: 1 }), LOCAL, REMOTE, 0)).toEqual({ action: 'drop', reason: 'listen-rst' });
    expect(listenerSegment(l.tcb, seg({ flags: 'F', seq: 1 }), LOCAL, REMOTE, 0)).toEqual({ action: 'drop', reason: 'listen-no-syn' });
    expect(listenerSegment(l.tcb, seg({ flags: 'SF', seq: 1 }), LOCAL, REMOTE, 0)).toEqual({ action: 'drop', reason: 'listen-syn-fin' });
  });
  test('acceptSyn on a listener bound to ANY uses the addresses of the segment', () => {
    const c = new Conn(makeEnv(), {}, { addr: '0.0.0.0', port: 80 });
    listen(c.tcb, 0);
    const child = acceptSyn(c.tcb, seg({ flags: 'S', seq: 7, dstPort: 80 }), { addr: '10.1.1.1', port: 80 }, REMOTE, 0);
    expect(child.local).toEqual({ addr: '10.1.1.1', port: 80 });
    const sa = c.one();
    expect([sa.srcPort, sa.dstPort]).toEqual([80, REMOTE.port]);
  });
  test('children of one listener are independent TCBs sharing its hooks', () => {
    const l = listener();
    const a = acceptSyn(l.tcb, seg({ flags: 'S', seq: 1 }), LOCAL, { addr: '192.0.2.1', port: 1 }, 0);
    const b = acceptSyn(l.tcb, seg({ flags: 'S', seq: 2 }), LOCAL, { addr: '192.0.2.1', port: 2 }, 0);
    expect(a).not.toBe(b);
    expect(a.hooks).toBe(l.tcb.hooks);
    expect(l.take().map((s) => s.dstPort)).toEqual([1, 2]);
  });
});

describe('SYN cookies (Linux syncookies.c layout)', () => {
  const key = keyFrom(seededRandom(42));
  test('mssIndex: the largest table entry not above the peer MSS', () => {
    expect([300, 536, 1299, 1300, 1459, 1460, 9000].map((m) => mssIndex(m, COOKIE_MSS_IPV4))).toEqual([0, 0, 0, 1, 2, 3, 3]);
  });
  test('decode(encode) gives the MSS index back within two minutes, not after', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1e12 }), (synSeq, ind, t) => {
        const c = encodeCookie(key, LOCAL, REMOTE, synSeq, ind, t);
        return decodeCookie(key, LOCAL, REMOTE, synSeq, c, t) === ind && decodeCookie(key, LOCAL, REMOTE, synSeq, c, t + 60e6) === ind;
      }),
    );
    const t = 5 * 60e6;
    const c = encodeCookie(key, LOCAL, REMOTE, 100, 2, t);
    expect(decodeCookie(key, LOCAL, REMOTE, 100, c, t + 120e6)).toBe(-1);
  });
  test('a cookie does not decode for another peer, a distant SYN seq, or another key', () => {
    const c = encodeCookie(key, LOCAL, REMOTE, 100, 3, 0);
    expect(decodeCookie(key, LOCAL, { ...REMOTE, port: REMOTE.port + 1 }, 100, c, 0)).toBe(-1);
    // The SYN's sequence number is added in, as in Linux: a nearby one only shifts the MSS index.
    expect(decodeCookie(key, LOCAL, REMOTE, 101, c, 0)).toBe(2);
    expect(decodeCookie(key, LOCAL, REMOTE, 1100, c, 0)).toBe(-1);
    expect(decodeCookie(keyFrom(seededRandom(43)), LOCAL, REMOTE, 100, c, 0)).toBe(-1);
  });
  test('the TSval carries wscale and SACK in its low 6 bits and is never ahead of the clock', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.integer({ min: -1, max: 14 }), fc.boolean(), (now, ws, sack) => {
        const v = cookieTsVal(now, ws, sack);
        const o = cookieTsOptions(v);
        return o !== null && o.wscale === ws && o.sackOk === sack && ((now - v) | 0) >= 0 && ((now - v) | 0) < 64;
      }),
    );
  });
  test('SYN → cookie SYN-ACK with TS (options in TSval) → ACK → ESTABLISHED child', () => {
    const l = listener();
    const syn = seg({ flags: 'S', seq: IRS, win: 64240, options: [opt.mss(1400), opt.sackOk(), opt.ts(111, 0), opt.nop(), opt.ws(9)] });
    const sa = synCookieReply(l.tcb, syn, LOCAL, REMOTE, 0);
    expect(optionsShape(sa.options)).toBe('mss 1460,sackOK,TS,nop,wscale 7');
    expect(sa.window).toBe(65160);
    const ts = sa.options.find((o) => o.kind === 'timestamps');
    const tsVal = ts?.kind === 'timestamps' ? ts.tsVal : 0;
    expect(l.take()).toEqual([]); // nothing kept, nothing sent by the listener itself
    const ack = seg({ flags: '.', seq: IRS + 1, ack: sa.seq + 1, win: 300, options: [opt.nop(), opt.nop(), opt.ts(112, tsVal)] });
    const v = listenerSegment(l.tcb, ack, LOCAL, REMOTE, 1000, true);
    expect(v.action).toBe('child');
    if (v.action !== 'child') return;
    const st = status(v.child);
    expect(st.state).toBe('ESTABLISHED');
    expect(st.mss).toBe(1300 - 12); // peer MSS rounded down to the table, less the TS option
    expect(st.options).toEqual({ wscale: true, sndWscale: 9, rcvWscale: 7, timestamps: true, sack: true });
    expect(v.child.sndWnd).toBe(300 * 512);
    expect(v.child.iss).toBe(sa.seq);
  });
  test('without TS in the SYN the cookie SYN-ACK offers only the MSS (tcp_clear_options)', () => {
    const l = listener();
    const sa = synCookieReply(l.tcb, seg({ flags: 'S', seq: IRS, options: [opt.mss(1460), opt.sackOk(), opt.nop(), opt.ws(7)] }), LOCAL, REMOTE, 0);
    expect(optionsShape(sa.options)).toBe('mss 1460');
    const v = listenerSegment(l.tcb, seg({ flags: '.', seq: IRS + 1, ack: sa.seq + 1, win: 1000 }), LOCAL, REMOTE, 0, true);
    expect(v.action === 'child' && status(v.child).options.wscale).toBe(false);
  });
  test('freebsd lays out the cookie SYN-ACK its own way', () => {
    const l = listener(freebsd);
    const sa = synCookieReply(l.tcb, seg({ flags: 'S', seq: IRS, options: [opt.mss(1460), opt.nop(), opt.ws(6), opt.sackOk(), opt.ts(5, 0)] }), LOCAL, REMOTE, 0);
    expect(optionsShape(sa.options)).toBe('mss 1460,nop,wscale 6,sackOK,TS');
  });
  test('a forged or stale cookie ACK gets the listener\'s RST', () => {
    const l = listener();
    const sa = synCookieReply(l.tcb, seg({ flags: 'S', seq: IRS, options: [opt.mss(1460)] }), LOCAL, REMOTE, 0);
    const forged = listenerSegment(l.tcb, seg({ flags: '.', seq: IRS + 1, ack: sa.seq + 2 }), LOCAL, REMOTE, 0, true);
    expect(forged.action === 'rst' && forged.reason).toBe('bad-cookie');
    const stale = listenerSegment(l.tcb, seg({ flags: '.', seq: IRS + 1, ack: sa.seq + 1 }), LOCAL, REMOTE, 180e6, true);
    expect(stale.action).toBe('rst');
  });
  test('cookies off: the same ACK is just an ACK to a listener', () => {
    const l = listener();
    const sa = synCookieReply(l.tcb, seg({ flags: 'S', seq: IRS, options: [opt.mss(1460)] }), LOCAL, REMOTE, 0);
    const v = listenerSegment(l.tcb, seg({ flags: '.', seq: IRS + 1, ack: sa.seq + 1 }), LOCAL, REMOTE, 0, false);
    expect(v.action === 'rst' && v.reason).toBe('listen-ack');
  });
});
