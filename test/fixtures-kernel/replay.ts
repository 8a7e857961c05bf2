/**
 * Kernel equivalence on the fixtures (issue 3, "Done when" #2): a synack Host plays one side of a
 * capture of the Linux 6.18 kernel. It gets that side's address and MAC, the application that ran
 * there (written out per scenario in kernel.test.ts), and the OTHER side's frames at their capture
 * times on a ManualClock; what it sends is compared, segment by segment, with what the kernel sent.
 *
 * - ISNs: the Host's IsnSource hands out, per 4-tuple, the ISNs the kernel chose (in the order of
 *   its incarnations), so the peer's frames need no translation. Sequence numbers are still compared
 *   relative to each side's ISN, so a wrong ISN shows up once, not in every segment.
 * - Compared: flags, relative seq and ack, the window field (unscaled, as on the wire), option kinds in
 *   order with the values of MSS, window scale and SACK blocks (relative), the payload bytes. Not
 *   compared: timestamp values, IP header fields, ARP and NDP (synack learns a sender's MAC from its
 *   TCP frame; the kernel asks ARP or NDP).
 * - Timestamps: the Host's clock runs at capture time plus the phase of the kernel's millisecond
 *   clock (tsPhase), and its per-connection TS offset is the kernel's (kernelIsns), so its TSvals are
 *   the kernel's and the TSecr the peer echoes passes synack's own checks.
 * - Segments are paired per 4-tuple in order: segments of different connections that the kernel sent
 *   close together may come out in another order without a difference in any of them.
 */
import { bytesOf, copyOut } from '../../src/wire/bytes.js';
import { formatTcpFlags, TcpFlags } from '../../src/wire/tcp.js';
import type { TcpOption, TcpRepr } from '../../src/wire/tcp.js';
import { parseFrame } from '../../src/wire/frame.js';
import { formatMac } from '../../src/wire/address.js';
import { openCapture } from '../../src/capture/index.js';
import { Host } from '../../src/stack/host.js';
import type { TraceEvent } from '../../src/stack/trace.js';
import type { Endpoint, IsnSource } from '../../src/tcp/env.js';
import type { Personality } from '../../src/tcp/personality.js';
import type { ListenSettings } from '../../src/socket/queues.js';
import type { SocketTable } from '../../src/socket/table.js';
import { ManualClock } from '../../src/testing/clock.js';
import { seededRandom } from '../../src/testing/random.js';

/** Capture time 0 (the first frame) is this on the Host's clock, so that nothing happens at time 0. */
export const BASE_US = 1_000_000;

export interface Segment {
  /** Capture frame number (kernel segments) or emission number from 1 (synack segments). */
  no: number;
  timeUs: number;
  src: string;
  dst: string;
  tcp: TcpRepr;
}

export interface CapturedFrame {
  no: number;
  timeUs: number;
  bytes: Uint8Array;
  srcMac: string;
  /** IP source and destination when the frame is IP. */
  src: string | null;
  dst: string | null;
  tcp: TcpRepr | null;
}

export function loadCapture(path: string): CapturedFrame[] {
  const r = openCapture(path);
  const out: CapturedFrame[] = [];
  let t0: number | null = null;
  for (let f = r.next(); f !== null; f = r.next()) {
    const us = f.tsSec * 1_000_000 + Math.floor(f.tsNsec / 1000);
    if (t0 === null) t0 = us;
    const bytes = copyOut(f.bytes, f.offset, f.capLen);
    const repr = parseFrame(f.linkType, bytesOf(bytes), 0, bytes.length);
    const net = repr.net;
    let src: string | null = null;
    let dst: string | null = null;
    let tcp: TcpRepr | null = null;
    if (net.kind === 'ipv4' || net.kind === 'ipv6') {
      src = net.header.src;
      dst = net.header.dst;
      if (net.payload.kind === 'tcp') tcp = net.payload.tcp;
    }
    out.push({ no: f.index, timeUs: us - t0 + BASE_US, bytes, srcMac: formatMac(bytesOf(bytes), 6), src, dst, tcp });
  }
  if (r.error !== null) throw new Error(`${path}: ${JSON.stringify(r.error)}`);
  return out;
}

const ep = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** Key of a 4-tuple seen from the played side. */
export const tupleKey = (localAddr: string, localPort: number, remoteAddr: string, remotePort: number): string =>
  `${ep(localAddr, localPort)} ${ep(remoteAddr, remotePort)}`;

/**
 * The kernel's ISNs, per 4-tuple in incarnation order, from its SYNs and SYN-ACKs in the capture (a
 * retransmission repeats the ISN and is one incarnation). Asking beyond the last one repeats it.
 *
 * And the kernel's timestamp clock: Linux adds an offset to a 1 kHz clock (secure_tcp_ts_off);
 * tsOffset() gives, per incarnation, the offset that makes synack's TSval equal the kernel's in its SYN
 * or SYN-ACK (the kernel's own ms clock drifts from the capture's by a millisecond now and then). The
 * values are not compared, but the peer echoes them, and a SYN-ACK whose TSecr is not one of our TSvals
 * is rejected (Linux tcp_rcv_synsent_state_process, PAWSACTIVEREJECTED), so they must be the kernel's.
 */
export function kernelIsns(frames: readonly CapturedFrame[], self: readonly string[]): IsnSource & { asked: string[] } {
  const isns = new Map<string, Array<{ isn: number; tsOffset: number }>>();
  for (const f of frames) {
    if (f.tcp === null || f.src === null || !self.includes(f.src) || f.dst === null || (f.tcp.flags & TcpFlags.SYN) === 0) continue;
    const k = tupleKey(f.src, f.tcp.srcPort, f.dst, f.tcp.dstPort);
    const list = isns.get(k) ?? [];
    const ts = f.tcp.options.find((o) => o.kind === 'timestamps');
    const tsOffset = ts !== undefined && ts.kind === 'timestamps' ? (ts.tsVal - Math.floor(f.timeUs / 1000)) >>> 0 : 0;
    if (list[list.length - 1]?.isn !== f.tcp.seq) list.push({ isn: f.tcp.seq, tsOffset });
    isns.set(k, list);
  }
  const asked: string[] = [];
  const current = new Map<string, { isn: number; tsOffset: number }>();
  return {
    asked,
    isn(local: Endpoint, remote: Endpoint): number {
      const k = tupleKey(local.addr, local.port, remote.addr, remote.port);
      asked.push(k);
      const list = isns.get(k);
      // The kernel never opened it: any ISN will do (the comparison shows what follows).
      const next = list === undefined || list.length === 0 ? { isn: 0x5a5a5a5a, tsOffset: 0 } : list.length > 1 ? (list.shift() as { isn: number; tsOffset: number }) : (list[0] as { isn: number; tsOffset: number });
      current.set(k, next);
      return next.isn;
    },
    tsOffset(local: Endpoint, remote: Endpoint): number {
      return current.get(tupleKey(local.addr, local.port, remote.addr, remote.port))?.tsOffset ?? 0;
    },
  };
}

/** The application's view during a replay. */
export interface App {
  readonly host: Host;
  readonly sockets: SocketTable;
  readonly frames: readonly CapturedFrame[];
  /** Now on the Host's clock (the socket table's time is set too). */
  now(): number;
  /** Records a failed application-level check (a wrong errno, unexpected data). */
  fail(msg: string): void;
  /** Frame numbers of the kernel's segments on a 4-tuple (local port, remote address, remote port) that pass `pred`. */
  kernelFrames(localPort: number, remote: string, remotePort: number, pred: (t: TcpRepr) => boolean): number[];
}

export interface Action {
  /** Run at the time of capture frame `frame`: before it ('at') or right after it was delivered ('after'). */
  frame: number;
  when: 'at' | 'after';
  why: string;
  run(app: App): void;
}

export interface Scenario {
  name: string;
  file: string;
  /** The address and MAC of the side synack plays (its first address, when it has several). */
  self: string;
  /** More addresses of that side (web-mail's client has three). */
  moreAddresses?: string[];
  mac: string;
  /** Neighbours known from the start (IP → MAC). */
  neighbors: Record<string, string>;
  personality: Personality;
  listen?: Partial<ListenSettings>;
  /**
   * Peer frames the kernel under test processed later than the capture shows them (simultaneous-open:
   * held in an NFQUEUE after the capture tap): frame → delivered just before this frame's time.
   */
  deliverBefore?: Record<number, number>;
  /** Called once before the first frame: sockets, bind, listen. */
  setup(app: App): void;
  /** Scheduled calls, by capture frame. */
  actions(app: App): Action[];
  /** Called after every delivered frame, timer run and action: a blocking application's reactions. */
  idle?(app: App): void;
  /** How long to keep running after the last frame, µs (timers). Default 1 s. */
  tailUs?: number;
  /** Calls at absolute capture-relative times (µs from the first frame), e.g. to read SO_ERROR. */
  timed?: Array<{ atUs: number; why: string; run(app: App): void }>;
}

/**
 * Where the kernel's millisecond timestamp clock ticks, on the capture's clock. Linux's TSval is
 * floor(ms clock) + a per address pair offset (tcp_clock_ts, secure_tcp_ts_off), and tcpdump stamps
 * frames from the same machine's clock, so TSval - floor((t + phase) / 1000) is constant per address
 * pair for the right phase (0..999 µs). Running the Host's clock at capture time + phase gives synack
 * the kernel's millisecond boundaries: its TSvals are then the kernel's wherever it sends at the same
 * moment, and never behind the kernel's when its timers fire earlier (the kernel's timer wheel fires
 * late). The middle of the best run of phases is taken.
 */
export function tsPhase(frames: readonly CapturedFrame[], isSelf: (a: string | null) => boolean): number {
  const pts: Array<{ pair: string; t: number; ts: number }> = [];
  for (const f of frames) {
    if (f.tcp === null || !isSelf(f.src)) continue;
    const o = f.tcp.options.find((x) => x.kind === 'timestamps');
    if (o !== undefined && o.kind === 'timestamps') pts.push({ pair: `${f.src}>${f.dst}`, t: f.timeUs, ts: o.tsVal });
  }
  if (pts.length === 0) return 0;
  const bad = new Array<number>(1000).fill(0);
  for (let phase = 0; phase < 1000; phase++) {
    const offsets = new Map<string, Map<number, number>>();
    for (const p of pts) {
      const o = (p.ts - Math.floor((p.t + phase) / 1000)) >>> 0;
      const m = offsets.get(p.pair) ?? new Map<number, number>();
      m.set(o, (m.get(o) ?? 0) + 1);
      offsets.set(p.pair, m);
    }
    for (const m of offsets.values()) {
      let total = 0;
      let most = 0;
      for (const n of m.values()) {
        total += n;
        most = Math.max(most, n);
      }
      bad[phase] = (bad[phase] as number) + total - most;
    }
  }
  const least = Math.min(...bad);
  // The longest run (cyclic) of phases with the fewest disagreements; its middle.
  let bestStart = 0;
  let bestLen = 0;
  for (let start = 0; start < 1000; start++) {
    if (bad[start] !== least || bad[(start + 999) % 1000] === least) continue;
    let len = 0;
    while (len < 1000 && bad[(start + len) % 1000] === least) len++;
    if (len > bestLen) {
      bestLen = len;
      bestStart = start;
    }
  }
  if (bestLen === 0) return 0; // every phase fits equally (one segment): no information
  return (bestStart + Math.floor(bestLen / 2)) % 1000;
}

export interface ReplayResult {
  kernel: Segment[];
  synack: Segment[];
  /** Application-level check failures and harness problems. */
  appErrors: string[];
  trace: TraceEvent[];
  frames: CapturedFrame[];
  isnAsked: string[];
  /** The played side's addresses. */
  self: string[];
  /** The Host's time of the capture's first frame (BASE_US plus the timestamp phase). */
  baseUs: number;
}

interface Ev {
  time: number;
  order: number;
  kind: 'frame' | 'action' | 'timed';
  frame?: CapturedFrame;
  action?: Action;
  timed?: { atUs: number; why: string; run(app: App): void };
}

export function replay(sc: Scenario, path: string): ReplayResult {
  const frames = loadCapture(path);
  const clock = new ManualClock(0);
  const selfAddrs = [sc.self, ...(sc.moreAddresses ?? [])];
  const isSelf = (a: string | null): boolean => a !== null && selfAddrs.includes(a);
  const phase = tsPhase(frames, isSelf);
  for (const f of frames) f.timeUs += phase;
  const baseUs = BASE_US + phase;
  const isn = kernelIsns(frames, selfAddrs);
  const synack: Segment[] = [];
  const appErrors: string[] = [];
  const host = new Host({
    name: `synack as ${sc.self}`,
    mac: sc.mac,
    ...(sc.self.includes(':') ? { ipv6: selfAddrs } : { ipv4: selfAddrs }),
    env: { clock, rand: seededRandom(1), isn },
    personality: sc.personality,
    ...(sc.listen !== undefined ? { listen: sc.listen } : {}),
    neighbors: sc.neighbors,
    trace: true,
    sink(frame, timeUs) {
      const repr = parseFrame(1, bytesOf(frame), 0, frame.length);
      const net = repr.net;
      if ((net.kind === 'ipv4' || net.kind === 'ipv6') && net.payload.kind === 'tcp') {
        synack.push({ no: synack.length + 1, timeUs, src: net.header.src, dst: net.header.dst, tcp: net.payload.tcp });
      }
    },
  });
  const app: App = {
    host,
    sockets: host.sockets,
    frames,
    now: () => host.now(),
    fail: (msg) => appErrors.push(`${((clock.now() - baseUs) / 1e6).toFixed(6)} s: ${msg}`),
    kernelFrames(localPort, remote, remotePort, pred) {
      return frames
        .filter((f) => f.tcp !== null && isSelf(f.src) && f.dst === remote && f.tcp.srcPort === localPort && f.tcp.dstPort === remotePort && pred(f.tcp))
        .map((f) => f.no);
    },
  };

  const byNo = new Map(frames.map((f) => [f.no, f]));
  // The scenario looks at the capture first (deliverBefore may depend on what it finds).
  const actions = sc.actions(app);
  const events: Ev[] = [];
  for (const f of frames) {
    const fromSelf = isSelf(f.src) || (f.src === null && f.srcMac === sc.mac);
    if (fromSelf) continue;
    const later = sc.deliverBefore?.[f.no];
    const at = later !== undefined ? byNo.get(later) : f;
    if (at === undefined) throw new Error(`deliverBefore: no frame ${later}`);
    events.push({ time: at.timeUs, order: later !== undefined ? later * 4 - 1 : f.no * 4 + 1, kind: 'frame', frame: f });
  }
  for (const a of actions) {
    const f = byNo.get(a.frame);
    if (f === undefined) throw new Error(`action "${a.why}": no frame ${a.frame}`);
    events.push({ time: f.timeUs, order: a.frame * 4 + (a.when === 'at' ? 0 : 2), kind: 'action', action: a });
  }
  for (const t of sc.timed ?? []) events.push({ time: t.atUs + baseUs, order: Number.MAX_SAFE_INTEGER, kind: 'timed', timed: t });
  events.sort((a, b) => a.time - b.time || a.order - b.order);

  const runTimers = (until: number): void => {
    for (;;) {
      const due = host.pollAt();
      if (due === null || due > until) break;
      clock.set(Math.max(due, clock.now()));
      host.poll(clock.now());
      sc.idle?.(app);
    }
  };

  clock.set(baseUs - 1);
  host.now();
  sc.setup(app);
  for (const e of events) {
    runTimers(e.time);
    clock.set(Math.max(e.time, clock.now()));
    host.now();
    if (e.kind === 'frame' && e.frame !== undefined) host.input(e.frame.bytes, clock.now());
    else if (e.kind === 'action' && e.action !== undefined) {
      try {
        e.action.run(app);
      } catch (err) {
        app.fail(`action "${e.action.why}" threw: ${String(err)}`);
      }
    } else if (e.timed !== undefined) e.timed.run(app);
    sc.idle?.(app);
  }
  const last = frames[frames.length - 1]?.timeUs ?? baseUs;
  runTimers(last + (sc.tailUs ?? 1_000_000));

  const kernel: Segment[] = frames
    .filter((f) => f.tcp !== null && isSelf(f.src))
    .map((f) => ({ no: f.no, timeUs: f.timeUs, src: f.src as string, dst: f.dst as string, tcp: f.tcp as TcpRepr }));
  return { kernel, synack, appErrors, trace: host.trace, frames, isnAsked: isn.asked, self: selfAddrs, baseUs };
}

// ---- comparison -------------------------------------------------------------------------------------

/** Per 4-tuple, the ISN of each side in force at each moment (new SYNs start new incarnations). */
class IsnBook {
  private readonly local = new Map<string, number>();
  private readonly peer = new Map<string, number>();
  noteLocal(k: string, t: TcpRepr): void {
    if (t.flags & TcpFlags.SYN) this.local.set(k, t.seq);
  }
  notePeer(k: string, t: TcpRepr): void {
    if (t.flags & TcpFlags.SYN) this.peer.set(k, t.seq);
  }
  rel(k: string, t: TcpRepr): { seq: string; ack: string } {
    const l = this.local.get(k);
    const p = this.peer.get(k);
    return {
      seq: l === undefined ? `abs ${t.seq}` : String((t.seq - l) >>> 0),
      ack: (t.flags & TcpFlags.ACK) === 0 ? '-' : p === undefined ? `abs ${t.ack}` : String((t.ack - p) >>> 0),
    };
  }
  peerIsn(k: string): number | undefined {
    return this.peer.get(k);
  }
}

/** The comparable face of one segment. */
export interface SegmentView {
  flags: string;
  seq: string;
  ack: string;
  window: number;
  options: string;
  length: number;
  payload: string;
}

function optionText(o: TcpOption, peerIsn: number | undefined): string {
  switch (o.kind) {
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'sack-permitted':
      return 'sackOK';
    case 'sack':
      return `sack ${o.blocks.map(([l, r]) => (peerIsn === undefined ? `${l}:${r}` : `${(l - peerIsn) >>> 0}:${(r - peerIsn) >>> 0}`)).join(' ')}`;
    case 'timestamps':
      return 'TS'; // values excepted: each side's clock and offset
    case 'eol':
    case 'nop':
      return o.kind;
    case 'fast-open':
    case 'fast-open-exp':
      return o.kind;
    case 'unknown':
      return `kind ${o.type}`;
    default: {
      const never: never = o;
      return never;
    }
  }
}

function payloadText(p: Uint8Array): string {
  const s = new TextDecoder().decode(p);
  return /^[\x20-\x7e\r\n]*$/.test(s) ? JSON.stringify(s) : `${p.length} bytes`;
}

function view(seg: Segment, book: IsnBook, k: string): SegmentView {
  const t = seg.tcp;
  const rel = book.rel(k, t);
  return {
    flags: formatTcpFlags(t.flags),
    seq: rel.seq,
    ack: rel.ack,
    window: t.window,
    options: t.options.map((o) => optionText(o, book.peerIsn(k))).join(','),
    length: t.payload.length,
    payload: payloadText(t.payload),
  };
}

export function formatView(v: SegmentView): string {
  return `[${v.flags}] seq ${v.seq} ack ${v.ack} win ${v.window} <${v.options}> len ${v.length}${v.length > 0 ? ` ${v.payload}` : ''}`;
}

export interface SegmentComparison {
  /** "frame 18 198.18.0.1:80 > 198.18.0.11:40001 [P.]" */
  title: string;
  tuple: string;
  kernel: SegmentView | null;
  synack: SegmentView | null;
  /** µs from the capture's first frame. */
  kernelTimeUs: number | null;
  synackTimeUs: number | null;
  /** Empty when the segments are equal. */
  diffs: string[];
}

/**
 * Pairs the kernel's and synack's segments per 4-tuple, in order, and lists every difference.
 * Sequence numbers are relative to each side's ISN in force: for the kernel's segments from the
 * capture order, for synack's from the order of its own output and of the frames it was given.
 */
export function compare(r: ReplayResult): SegmentComparison[] {
  const keyOf = (s: { src: string; dst: string; tcp: TcpRepr }): string => tupleKey(s.src, s.tcp.srcPort, s.dst, s.tcp.dstPort);
  const peerKeyOf = (f: CapturedFrame): string => tupleKey(f.dst as string, (f.tcp as TcpRepr).dstPort, f.src as string, (f.tcp as TcpRepr).srcPort);

  // The kernel's side, in capture order.
  const kBook = new IsnBook();
  const kernelViews = new Map<string, Array<{ seg: Segment; v: SegmentView }>>();
  for (const f of r.frames) {
    if (f.tcp === null || f.src === null) continue;
    if (r.self.includes(f.src)) {
      const seg = r.kernel.find((s) => s.no === f.no) as Segment;
      const k = keyOf(seg);
      kBook.noteLocal(k, seg.tcp);
      const list = kernelViews.get(k) ?? [];
      list.push({ seg, v: view(seg, kBook, k) });
      kernelViews.set(k, list);
    } else if (f.dst !== null && r.self.includes(f.dst)) kBook.notePeer(peerKeyOf(f), f.tcp);
  }

  // synack's side: its output interleaved with the peer frames it was given, in time order (a peer
  // frame delivered at the same time as an output segment came first: it caused it).
  const sBook = new IsnBook();
  const synackViews = new Map<string, Array<{ seg: Segment; v: SegmentView }>>();
  const peerIn = r.trace.filter((e): e is Extract<TraceEvent, { type: 'frame-in' }> => e.type === 'frame-in' && e.segment !== null);
  let pi = 0;
  const peerSegs = peerIn.map((e) => e.segment as NonNullable<typeof e.segment>);
  const outOrder = r.trace.filter((e) => e.type === 'frame-in' || (e.type === 'frame-out' && e.kind === 'tcp'));
  let si = 0;
  for (const e of outOrder) {
    if (e.type === 'frame-in') {
      const s = peerSegs[pi++];
      if (s === undefined) continue;
      // SegmentNote src/dst are "addr.port"; flags in tcpdump letters.
      const [srcA, srcP] = splitNote(s.src);
      const [dstA, dstP] = splitNote(s.dst);
      if (s.flags.includes('S')) sBook.notePeer(tupleKey(dstA, dstP, srcA, srcP), { seq: s.seq, flags: TcpFlags.SYN } as TcpRepr);
      continue;
    }
    const seg = r.synack[si++];
    if (seg === undefined) continue;
    const k = keyOf(seg);
    sBook.noteLocal(k, seg.tcp);
    const list = synackViews.get(k) ?? [];
    list.push({ seg, v: view(seg, sBook, k) });
    synackViews.set(k, list);
  }

  const out: SegmentComparison[] = [];
  const keys = [...new Set([...kernelViews.keys(), ...synackViews.keys()])];
  for (const k of keys) {
    const ks = kernelViews.get(k) ?? [];
    const ss = synackViews.get(k) ?? [];
    for (let i = 0; i < Math.max(ks.length, ss.length); i++) {
      const a = ks[i];
      const b = ss[i];
      const diffs: string[] = [];
      if (a === undefined) diffs.push(`synack sent a segment the kernel did not: ${formatView((b as { v: SegmentView }).v)}`);
      else if (b === undefined) diffs.push(`synack did not send it`);
      else {
        for (const f of ['flags', 'seq', 'ack', 'window', 'options', 'length', 'payload'] as const) {
          if (a.v[f] !== b.v[f]) diffs.push(`${f}: kernel ${a.v[f]}, synack ${b.v[f]}`);
        }
      }
      const flags = a?.v.flags ?? b?.v.flags ?? '';
      out.push({
        title: a !== undefined ? `frame ${a.seg.no} ${k.replace(' ', ' > ')} [${flags}] #${i + 1}` : `extra ${k.replace(' ', ' > ')} [${flags}] #${i + 1}`,
        tuple: k,
        kernel: a?.v ?? null,
        synack: b?.v ?? null,
        kernelTimeUs: a === undefined ? null : a.seg.timeUs - r.baseUs,
        synackTimeUs: b === undefined ? null : b.seg.timeUs - r.baseUs,
        diffs,
      });
    }
  }
  return out.sort((x, y) => (x.kernelTimeUs ?? Infinity) - (y.kernelTimeUs ?? Infinity) || (x.synackTimeUs ?? 0) - (y.synackTimeUs ?? 0));
}

function splitNote(s: string): [string, number] {
  const i = s.lastIndexOf('.');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

/** A readable report of one comparison. */
export function explain(c: SegmentComparison): string {
  const t = (us: number | null): string => (us === null ? '-' : `${(us / 1e6).toFixed(6)} s`);
  return [
    `${c.title}`,
    `  kernel @${t(c.kernelTimeUs)}: ${c.kernel === null ? '(nothing)' : formatView(c.kernel)}`,
    `  synack @${t(c.synackTimeUs)}: ${c.synack === null ? '(nothing)' : formatView(c.synack)}`,
    ...c.diffs.map((d) => `  ≠ ${d}`),
  ].join('\n');
}
