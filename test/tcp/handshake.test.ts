/**
 * Three-way handshakes: active, passive and simultaneous open, for both personalities, with the option
 * layouts and windows that the packetdrill scripts in /work/shared/conformance/packetdrill expect
 * ("pd:" names the script each expectation comes from).
 */
import { describe, expect, test } from 'vitest';
import { freebsd, linux, type Personality } from './profiles.js';
import { status, connect, listen } from '../../src/tcp/user-calls.js';
import { acceptSyn } from '../../src/tcp/listen.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import {
  Conn,
  IRS,
  ISS,
  LOCAL,
  REMOTE,
  activeOpen,
  describe as d,
  flagString,
  makeEnv,
  opt,
  optionsShape,
  optionsText,
  passiveOpen,
  seg,
} from './helpers.js';

/** packetdrill's defaults.sh: tcp_rmem = 4096 540000 15728640 → wscale 8 and a 65535 SYN window. */
const linuxPd: Personality = { ...linux, rcvSpace: 270000, rcvSpaceMax: 15728640 };

describe('active open (RFC 9293 §3.10.1 OPEN, §3.10.7.3 SYN-SENT)', () => {
  test('linux SYN: <mss 1460,sackOK,TS val .. ecr 0,nop,wscale 7>, window 64240 (6.x defaults)', () => {
    const c = new Conn();
    expect(connect(c.tcb, REMOTE, c.now)).toBe(null);
    const syn = c.one();
    expect(flagString(syn.flags)).toBe('S');
    expect(syn.seq).toBe(ISS);
    expect(syn.ack).toBe(0);
    expect(syn.window).toBe(64240);
    expect(optionsShape(syn.options)).toBe('mss 1460,sackOK,TS,nop,wscale 7');
    expect(c.tcb.state).toBe('SYN-SENT');
    expect(c.states()).toEqual(['CLOSED>SYN-SENT:call']);
  });

  test('linux SYN under packetdrill defaults.sh: wscale 8, window 65535 (pd: blocking-connect.pkt)', () => {
    const c = new Conn(makeEnv(), { personality: linuxPd });
    connect(c.tcb, REMOTE, c.now);
    const syn = c.one();
    expect(optionsShape(syn.options)).toBe('mss 1460,sackOK,TS,nop,wscale 8');
    expect(syn.window).toBe(65535);
  });

  test('linux: SYN-ACK without TS → ESTABLISHED, bare ACK with no options (pd: blocking-connect.pkt)', () => {
    const c = new Conn(makeEnv(), { personality: linuxPd });
    connect(c.tcb, REMOTE, c.now);
    c.take();
    // +.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,nop,wscale 2,nop,nop,sackOK>
    c.clock.advance(100_000);
    const r = c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 5792, options: [opt.mss(1460), opt.nop(), opt.ws(2), opt.nop(), opt.nop(), opt.sackOk()] });
    expect(r).toBe('accepted');
    const ack = c.one();
    // +0 > . 1:1(0) ack 1
    expect(d(ack, ISS, IRS)).toMatch(/^\. 1:1\(0\) ack 1 win \d+$/);
    expect(c.tcb.state).toBe('ESTABLISHED');
    expect(c.tcb.sndWnd).toBe(5792); // "the window field in a SYN segment itself is never scaled"
    const st = status(c.tcb);
    expect(st.options).toEqual({ wscale: true, sndWscale: 2, rcvWscale: 8, timestamps: false, sack: true });
    expect(st.mss).toBe(1460);
  });

  test('linux: the first ACK advertises 64240 rounded up to the scale unit: win 502 with wscale 7', () => {
    const c = activeOpen(linux);
    expect(c.tcb.state).toBe('ESTABLISHED');
    // Bring out an ACK: a data segment from the peer.
    c.arrive({ flags: 'P.', seq: IRS + 1, ack: ISS + 1, win: 1000, len: 10, options: [opt.nop(), opt.nop(), opt.ts(2000, c.tcb.tsVal())] });
    const ack = c.one();
    expect(ack.window).toBe(Math.ceil(64240 / 128)); // 502
  });

  test('linux: SYN-ACK with TS → the ACK carries <nop,nop,TS val .. ecr peer>, MSS less 12', () => {
    const c = new Conn();
    connect(c.tcb, REMOTE, c.now);
    const syn = c.one();
    const ts = syn.options.find((o) => o.kind === 'timestamps');
    expect(ts).toBeDefined();
    c.clock.advance(2000);
    c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 65160, options: [opt.mss(1460), opt.sackOk(), opt.ts(777, ts?.kind === 'timestamps' ? ts.tsVal : 0), opt.nop(), opt.ws(7)] });
    const ack = c.one();
    expect(optionsText(ack.options)).toBe(`nop,nop,TS val ${c.tcb.tsVal()} ecr 777`);
    expect(status(c.tcb).mss).toBe(1448);
    expect(c.tcb.srtt).toBe(2000); // RTT sample from the SYN (not retransmitted)
  });

  test('freebsd SYN: <mss 1460,nop,wscale 6,sackOK,TS val .. ecr 0> win 65535 (pd: snd-syn-with-default-options-ipv4.pkt)', () => {
    const c = new Conn(makeEnv(), { personality: freebsd });
    connect(c.tcb, REMOTE, c.now);
    const syn = c.one();
    expect(optionsShape(syn.options)).toBe('mss 1460,nop,wscale 6,sackOK,TS');
    expect(syn.window).toBe(65535);
  });

  test('freebsd: SYN-ACK <mss 1460,sackOK,eol,eol> → > . 1:1(0) ack 1 win 65535 (pd: established-ipv4.pkt)', () => {
    const c = new Conn(makeEnv(), { personality: freebsd });
    connect(c.tcb, REMOTE, c.now);
    c.take();
    c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: 32767, options: [opt.mss(1460), opt.sackOk(), opt.eol()] });
    const ack = c.one();
    expect(d(ack, ISS, IRS)).toBe('. 1:1(0) ack 1 win 65535');
    // SO_RCVBUF 65536 → 65700 after establishment: rounded up to 45 segments of 1460.
    expect(c.tcb.rcvSpace).toBe(65700);
  });
});

describe('passive open (RFC 9293 §3.10.7.2 LISTEN third, acceptSyn)', () => {
  const cases: Array<[string, Personality, string, string, number]> = [
    // [script, personality, SYN options, expected SYN-ACK options, expected window]
    ['pd: tcp_basic_server.pkt', linuxPd, 'mss 1000,sackOK,nop,nop,nop,wscale 8', 'mss 1460,nop,nop,sackOK,nop,wscale 8', 65535],
    ['pd: blocking-accept.pkt', linuxPd, 'mss 1000,nop,wscale 7', 'mss 1460,nop,wscale 8', 65535],
    ['pd: tcp_close_no_rst.pkt', linuxPd, 'mss 1000,sackOK,nop,nop', 'mss 1460,nop,nop,sackOK', 65535],
    ['pd: fin_tsval.pkt', linuxPd, 'mss 1000,sackOK,TS', 'mss 1460,sackOK,TS', 65535],
    ['linux 6.x defaults, no TS', linux, 'mss 1460,sackOK,nop,nop,nop,wscale 7', 'mss 1460,nop,nop,sackOK,nop,wscale 7', 64240],
    ['linux 6.x defaults, TS: 45 × 1448', linux, 'mss 1460,sackOK,TS,nop,wscale 7', 'mss 1460,sackOK,TS,nop,wscale 7', 65160],
    ['pd: rcv-syn-without-data-listen-ipv4.pkt', freebsd, 'mss 1460,sackOK,eol', 'mss 1460,sackOK,eol', 65535],
    ['freebsd, everything offered', freebsd, 'mss 1460,nop,wscale 6,sackOK,TS', 'mss 1460,nop,wscale 6,sackOK,TS', 65535],
  ];
  const parse = (text: string) =>
    text.split(',').map((t) => {
      if (t.startsWith('mss ')) return opt.mss(Number(t.slice(4)));
      if (t.startsWith('wscale ')) return opt.ws(Number(t.slice(7)));
      if (t === 'sackOK') return opt.sackOk();
      if (t === 'TS') return opt.ts(100, 0);
      if (t === 'nop') return opt.nop();
      if (t === 'eol') return opt.eol();
      throw new Error(t);
    });
  for (const [name, p, synOpts, want, win] of cases) {
    test(`${p.name}: SYN <${synOpts}> → S. <${want}> win ${win} (${name})`, () => {
      const { conn } = passiveOpen(p, parse(synOpts));
      const sa = conn.one();
      expect(flagString(sa.flags)).toBe('S.');
      expect(sa.seq).toBe(ISS);
      expect(sa.ack).toBe(IRS + 1);
      expect(optionsShape(sa.options)).toBe(want);
      expect(sa.window).toBe(win);
      expect(conn.tcb.state).toBe('SYN-RECEIVED');
      expect(conn.states()).toEqual(['CLOSED>LISTEN:call', 'LISTEN>SYN-RECEIVED:segment']);
    });
  }

  test('the SYN-ACK echoes the SYN TSval (pd: fin_tsval.pkt `S. <mss 1460,sackOK,TS val 100 ecr 100>`)', () => {
    const { conn } = passiveOpen(linux, [opt.mss(1000), opt.sackOk(), opt.ts(100, 0)]);
    const sa = conn.one();
    const ts = sa.options.find((o) => o.kind === 'timestamps');
    expect(ts).toEqual({ kind: 'timestamps', tsVal: conn.tcb.tsVal(), tsEcr: 100 });
  });

  test('the listener stays in LISTEN and the child inherits its settings', () => {
    const c = new Conn(makeEnv(), { personality: linux, mss: 1400, nodelay: true, rcvBuf: 32768 });
    listen(c.tcb, 0);
    const child = acceptSyn(c.tcb, seg({ flags: 'S', seq: IRS, options: [opt.mss(1460)] }), LOCAL, REMOTE, 0);
    expect(c.tcb.state).toBe('LISTEN');
    expect(child.state).toBe('SYN-RECEIVED');
    expect(child.config.nodelay).toBe(true);
    expect(child.config.mss).toBe(1400);
    expect(child.local).toEqual(LOCAL);
    expect(child.remote).toEqual(REMOTE);
    const sa = c.one();
    expect(sa.options[0]).toEqual({ kind: 'mss', value: 1400 });
    expect(sa.window).toBe(32200); // 32768 rounded down to 23 segments of 1400
  });

  test('TCP_MAXSEG on the listener: the SYN-ACK advertises it (pd: mss-setsockopt-tcp_maxseg-server.pkt)', () => {
    const { conn } = passiveOpen(linux, [opt.mss(1460)], { userMss: 1100 });
    expect(conn.one().options[0]).toEqual({ kind: 'mss', value: 1100 });
  });

  test('ACK of the SYN-ACK → ESTABLISHED; window scaled from then on', () => {
    const { conn } = passiveOpen(linux, [opt.mss(1000), opt.sackOk(), opt.nop(), opt.nop(), opt.nop(), opt.ws(8)]);
    conn.take();
    // +0 < . 1:1(0) ack 1 win 257
    expect(conn.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 257 })).toBe('accepted');
    expect(conn.tcb.state).toBe('ESTABLISHED');
    expect(conn.tcb.sndWnd).toBe(257 * 256);
    expect(conn.take()).toEqual([]);
    expect(status(conn.tcb).mss).toBe(1000);
  });

  test('peer without an MSS option: 536 over IPv4 (RFC 9293 §3.7.1)', () => {
    const { conn } = passiveOpen(linux, []);
    conn.take();
    conn.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 5000 });
    expect(status(conn.tcb).mss).toBe(536);
  });
});

describe('simultaneous open (RFC 9293 §3.10.7.3 fourth, "Otherwise, enter SYN-RECEIVED")', () => {
  test('linux: crossed SYNs → SYN-ACK with our SYN options, then ACK → ESTABLISHED', () => {
    const c = new Conn();
    connect(c.tcb, REMOTE, c.now);
    c.take();
    expect(c.arrive({ flags: 'S', seq: IRS, win: 65535, options: [opt.mss(1460), opt.sackOk(), opt.ts(50, 0), opt.nop(), opt.ws(7)] })).toBe('accepted');
    expect(c.tcb.state).toBe('SYN-RECEIVED');
    const sa = c.one();
    expect(flagString(sa.flags)).toBe('S.');
    expect(sa.seq).toBe(ISS);
    expect(sa.ack).toBe(IRS + 1);
    expect(optionsShape(sa.options)).toBe('mss 1460,sackOK,TS,nop,wscale 7');
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 500, options: [opt.nop(), opt.nop(), opt.ts(51, c.tcb.tsVal())] });
    expect(c.tcb.state).toBe('ESTABLISHED');
    expect(c.tcb.sndWnd).toBe(500 * 128);
    expect(c.states()).toEqual(['CLOSED>SYN-SENT:call', 'SYN-SENT>SYN-RECEIVED:segment', 'SYN-RECEIVED>ESTABLISHED:segment']);
  });

  test('freebsd: crossed SYNs → S. mirroring the peer <mss 1460,sackOK,eol,eol> (pd: rcv-syn-without-data-syn-sent-ipv4.pkt)', () => {
    const c = new Conn(makeEnv(), { personality: freebsd });
    connect(c.tcb, REMOTE, c.now);
    c.take();
    c.arrive({ flags: 'S', seq: IRS, win: 32767, options: [opt.mss(1460), opt.sackOk(), opt.eol()] });
    const sa = c.one();
    expect(d(sa, ISS, IRS)).toBe('S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol>');
    c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 65535 });
    expect(c.tcb.state).toBe('ESTABLISHED');
    // close → F. 1:1(0) ack 1 win 65535
    expect(c.take()).toEqual([]);
  });

  test('both ends in one process: two SYN-SENT connections cross and both reach ESTABLISHED', () => {
    const a = new Conn(makeEnv(111), {}, { addr: '10.0.0.1', port: 1000 });
    const b = new Conn(makeEnv(222), {}, { addr: '10.0.0.2', port: 2000 });
    connect(a.tcb, { addr: '10.0.0.2', port: 2000 }, 0);
    connect(b.tcb, { addr: '10.0.0.1', port: 1000 }, 0);
    const synA = a.one();
    const synB = b.one();
    b.arrive(synA);
    a.arrive(synB);
    const saB = b.one();
    const saA = a.one();
    b.arrive(saA);
    a.arrive(saB);
    // Linux 6.11+: the crossed SYN-ACKs complete both handshakes; each side ACKs the duplicate SYN at
    // once, with a D-SACK block for it when SACK was agreed (fixtures/simultaneous-open-v4.pcap frame 7:
    // ". 1:1(0) ack 1 <nop,nop,TS,nop,nop,sack 0:1>").
    for (const [side, peerIsn] of [[a, b.tcb.iss], [b, a.tcb.iss]] as const) {
      const acks = side.take();
      expect(acks).toHaveLength(1);
      const sack = acks[0]?.options.find((o) => o.kind === 'sack');
      expect(sack).toEqual({ kind: 'sack', blocks: [[peerIsn, (peerIsn + 1) >>> 0]] });
    }
    expect(a.tcb.state).toBe('ESTABLISHED');
    expect(b.tcb.state).toBe('ESTABLISHED');
    expect(a.tcb.sndUna).toBe(112);
    expect(b.tcb.rcvNxt).toBe(112);
    expect(TcpFlags.SYN & saA.flags).toBeTruthy();
  });
});
