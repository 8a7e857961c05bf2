/**
 * Test helpers for tcp/: a connection with its output collected, segment builders in packetdrill's
 * notation ("S.", "F.", "R", "P."), and shortcuts to bring a connection into a given state.
 */
import { ManualClock } from '../../src/testing/clock.js';
import { fixedIsn } from '../../src/testing/isn.js';
import { seededRandom } from '../../src/testing/random.js';
import type { Endpoint, Env } from '../../src/tcp/env.js';
import { acceptSyn } from '../../src/tcp/listen.js';
import { linux, type Personality } from './profiles.js';
import { segmentArrives } from '../../src/tcp/segment-arrives.js';
import { Tcb, type TcbConfig, type TcpEvent } from '../../src/tcp/tcb.js';
import { connect, listen, shutdownWrite } from '../../src/tcp/user-calls.js';
import { TcpFlags, type TcpOption, type TcpRepr } from '../../src/wire/tcp.js';

export const LOCAL: Endpoint = { addr: '192.168.0.1', port: 8080 };
export const REMOTE: Endpoint = { addr: '192.0.2.1', port: 40000 };
export const ISS = 1_000_000;
/** The peer's ISN in our scripts (packetdrill injects SYN seqs as written; we pick a non-zero one). */
export const IRS = 5_000_000;

export function makeEnv(isn = ISS, seed = 1): Env {
  return { clock: new ManualClock(), rand: seededRandom(seed), isn: fixedIsn(isn) };
}

/** packetdrill flag letters: S F R P . (ACK) U E W. */
export function flags(s: string): number {
  let f = 0;
  for (const ch of s) {
    if (ch === 'S') f |= TcpFlags.SYN;
    else if (ch === 'F') f |= TcpFlags.FIN;
    else if (ch === 'R') f |= TcpFlags.RST;
    else if (ch === 'P') f |= TcpFlags.PSH;
    else if (ch === '.') f |= TcpFlags.ACK;
    else if (ch === 'U') f |= TcpFlags.URG;
    else if (ch === 'E') f |= TcpFlags.ECE;
    else if (ch === 'W') f |= TcpFlags.CWR;
    else if (ch !== '-') throw new Error(`flag letter ${ch}`);
  }
  return f;
}

export function flagString(f: number): string {
  let s = '';
  if (f & TcpFlags.SYN) s += 'S';
  if (f & TcpFlags.FIN) s += 'F';
  if (f & TcpFlags.RST) s += 'R';
  if (f & TcpFlags.PSH) s += 'P';
  if (f & TcpFlags.URG) s += 'U';
  if (f & TcpFlags.ACK) s += '.';
  return s === '' ? '-' : s;
}

export interface SegSpec {
  flags: string;
  seq: number;
  ack?: number;
  win?: number;
  len?: number;
  payload?: Uint8Array;
  options?: TcpOption[];
  urgent?: number;
  srcPort?: number;
  dstPort?: number;
}

/** A segment from the peer (REMOTE → LOCAL). */
export function seg(s: SegSpec): TcpRepr {
  const payload = s.payload ?? new Uint8Array(s.len ?? 0);
  return {
    srcPort: s.srcPort ?? REMOTE.port,
    dstPort: s.dstPort ?? LOCAL.port,
    seq: s.seq >>> 0,
    ack: (s.ack ?? 0) >>> 0,
    flags: flags(s.flags),
    window: s.win ?? 65535,
    urgent: s.urgent ?? 0,
    options: s.options ?? [],
    payload,
  };
}

export const opt = {
  mss: (value: number): TcpOption => ({ kind: 'mss', value }),
  ws: (shift: number): TcpOption => ({ kind: 'wscale', shift }),
  sackOk: (): TcpOption => ({ kind: 'sack-permitted' }),
  ts: (tsVal: number, tsEcr: number): TcpOption => ({ kind: 'timestamps', tsVal, tsEcr }),
  nop: (): TcpOption => ({ kind: 'nop' }),
  eol: (): TcpOption => ({ kind: 'eol' }),
};

/** packetdrill-like text of options: "mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7". */
export function optionsText(options: readonly TcpOption[]): string {
  return options
    .map((o) => {
      switch (o.kind) {
        case 'mss': return `mss ${o.value}`;
        case 'wscale': return `wscale ${o.shift}`;
        case 'sack-permitted': return 'sackOK';
        case 'timestamps': return `TS val ${o.tsVal} ecr ${o.tsEcr}`;
        case 'nop': return 'nop';
        case 'eol': return 'eol';
        case 'sack': return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(' ')}`;
        default: return o.kind;
      }
    })
    .join(',');
}

/** Option kinds only, TS values left out: "mss 1460,sackOK,TS,nop,wscale 7". */
export function optionsShape(options: readonly TcpOption[]): string {
  return optionsText(options).replace(/TS val \d+ ecr \d+/g, 'TS');
}

/** A connection with its output and events collected. */
export class Conn {
  out: TcpRepr[] = [];
  events: TcpEvent[] = [];
  tcb: Tcb;
  clock: ManualClock;

  constructor(
    readonly env: Env = makeEnv(),
    config: Partial<TcbConfig> = {},
    readonly local: Endpoint = LOCAL,
  ) {
    this.clock = env.clock as ManualClock;
    this.tcb = new Tcb({
      env,
      local,
      // The tests' Linux is the 6 MiB tcp_rmem[2] profile (profiles.ts) unless a test says otherwise.
      config: { personality: linux, ...config },
      hooks: { output: (s) => this.out.push(s), onEvent: (e) => this.events.push(e) },
    });
  }

  get now(): number {
    return this.clock.now();
  }

  /** Takes and clears the collected output. */
  take(): TcpRepr[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  /** Exactly one segment was sent; returns it. */
  one(): TcpRepr {
    const o = this.take();
    if (o.length !== 1) throw new Error(`expected one segment, got ${o.length}: ${o.map((x) => describe(x)).join(' | ')}`);
    return o[0] as TcpRepr;
  }

  arrive(s: SegSpec | TcpRepr): ReturnType<typeof segmentArrives> {
    const r = 'payload' in s && s.payload instanceof Uint8Array && typeof (s as TcpRepr).flags === 'number' ? (s as TcpRepr) : seg(s as SegSpec);
    return segmentArrives(this.tcb, r, this.now);
  }

  states(): string[] {
    return this.events.flatMap((e) => (e.type === 'state' ? [`${e.from}>${e.to}:${e.cause}`] : []));
  }

  drops(): string[] {
    return this.events.flatMap((e) => (e.type === 'drop' ? [e.reason] : []));
  }
}

/** Short text of a segment, relative to the given ISNs: "S. 0:0(0) ack 1 win 65160". */
export function describe(s: TcpRepr, iss = 0, irs = 0): string {
  const rel = (x: number, base: number): number => (x - base) >>> 0;
  const len = s.payload.length;
  const ack = s.flags & TcpFlags.ACK ? ` ack ${rel(s.ack, irs)}` : '';
  const seq = rel(s.seq, iss);
  const o = s.options.length > 0 ? ` <${optionsText(s.options)}>` : '';
  return `${flagString(s.flags)} ${seq}:${(seq + len) >>> 0}(${len})${ack} win ${s.window}${o}`;
}

/** A client connection driven through the handshake; the peer's ISN is IRS. */
export function activeOpen(
  p: Personality = linux,
  peerOptions: TcpOption[] = [opt.mss(1460), opt.sackOk(), opt.ts(1000, 0), opt.nop(), opt.ws(7)],
  config: Partial<TcbConfig> = {},
  peerWin = 65535,
): Conn {
  const c = new Conn(makeEnv(), { personality: p, ...config });
  connect(c.tcb, REMOTE, c.now);
  const syn = c.one();
  const tsEcr = syn.options.find((o) => o.kind === 'timestamps');
  const opts = peerOptions.map((o) =>
    o.kind === 'timestamps' && tsEcr !== undefined && tsEcr.kind === 'timestamps' ? { ...o, tsEcr: tsEcr.tsVal } : o,
  );
  c.arrive({ flags: 'S.', seq: IRS, ack: ISS + 1, win: peerWin, options: opts });
  c.take();
  return c;
}

/** A passively opened child in SYN-RECEIVED (listener kept in `listener`). */
export function passiveOpen(
  p: Personality = linux,
  peerOptions: TcpOption[] = [opt.mss(1460), opt.sackOk(), opt.ts(1000, 0), opt.nop(), opt.ws(7)],
  config: Partial<TcbConfig> = {},
  peerWin = 65535,
): { conn: Conn; listener: Tcb } {
  const c = new Conn(makeEnv(), { personality: p, ...config });
  listen(c.tcb, c.now);
  const listener = c.tcb;
  const child = acceptSyn(listener, seg({ flags: 'S', seq: IRS, win: peerWin, options: peerOptions }), LOCAL, REMOTE, c.now);
  c.tcb = child;
  return { conn: c, listener };
}

/** A passively opened connection completed to ESTABLISHED. */
export function passiveEstablished(
  p: Personality = linux,
  peerOptions: TcpOption[] = [opt.mss(1460), opt.sackOk(), opt.ts(1000, 0), opt.nop(), opt.ws(7)],
  config: Partial<TcbConfig> = {},
): Conn {
  const { conn } = passiveOpen(p, peerOptions, config);
  const synAck = conn.one();
  const ts = synAck.options.find((o) => o.kind === 'timestamps');
  const tsOpts = ts !== undefined && ts.kind === 'timestamps' ? [opt.nop(), opt.nop(), opt.ts(1001, ts.tsVal)] : [];
  conn.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 1, win: 1024, options: tsOpts });
  conn.take();
  return conn;
}

/** The TS option of the peer for a segment sent to `c` now (echoing our latest TSval). */
export function peerTs(c: Conn, tsVal: number): TcpOption[] {
  if (!c.tcb.tsOk) return [];
  return [opt.nop(), opt.nop(), opt.ts(tsVal, c.tcb.tsVal())];
}

/** Peer options without timestamps, so segments need no TS option: the default for state tests. */
export const NO_TS: TcpOption[] = [opt.mss(1460), opt.sackOk(), opt.nop(), opt.ws(7)];

export type StateName =
  | 'SYN-SENT'
  | 'SYN-RECEIVED'
  | 'SYN-RECEIVED(active)'
  | 'ESTABLISHED'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/**
 * A connection in `state`, output and events cleared. Our ISN is ISS, the peer's IRS; after the
 * handshake SND.NXT = ISS+1 (+1 more once our FIN is out) and RCV.NXT = IRS+1 (+1 after the peer's FIN).
 */
export function inState(state: StateName, p: Personality = linux, peerOptions: TcpOption[] = NO_TS): Conn {
  let c: Conn;
  if (state === 'SYN-SENT') {
    c = new Conn(makeEnv(), { personality: p });
    connect(c.tcb, REMOTE, c.now);
  } else if (state === 'SYN-RECEIVED') {
    c = passiveOpen(p, peerOptions).conn;
  } else if (state === 'SYN-RECEIVED(active)') {
    c = new Conn(makeEnv(), { personality: p });
    connect(c.tcb, REMOTE, c.now);
    c.arrive({ flags: 'S', seq: IRS, win: 65535, options: peerOptions });
  } else {
    c = activeOpen(p, peerOptions);
    const peerFin = (): void => void c.arrive({ flags: 'F.', seq: IRS + 1, ack: c.tcb.sndNxt, win: 1000 });
    switch (state) {
      case 'ESTABLISHED':
        break;
      case 'FIN-WAIT-1':
        shutdownWriteFor(c);
        break;
      case 'FIN-WAIT-2':
        shutdownWriteFor(c);
        c.arrive({ flags: '.', seq: IRS + 1, ack: ISS + 2, win: 1000 });
        break;
      case 'CLOSE-WAIT':
        peerFin();
        break;
      case 'CLOSING':
        shutdownWriteFor(c);
        c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 1, win: 1000 });
        break;
      case 'LAST-ACK':
        peerFin();
        shutdownWriteFor(c);
        break;
      case 'TIME-WAIT':
        shutdownWriteFor(c);
        c.arrive({ flags: 'F.', seq: IRS + 1, ack: ISS + 2, win: 1000 });
        break;
      default:
        break;
    }
  }
  const want = state === 'SYN-RECEIVED(active)' ? 'SYN-RECEIVED' : state;
  if (c.tcb.state !== want) throw new Error(`inState(${state}): got ${c.tcb.state}`);
  c.take();
  c.events = [];
  return c;
}


function shutdownWriteFor(c: Conn): void {
  shutdownWrite(c.tcb, c.now);
}
