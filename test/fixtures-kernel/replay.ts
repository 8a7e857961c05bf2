/**
 * Kernel equivalence on the fixtures (issue 3, "Done when" #2): a synack Host plays one side of a
 * capture of the Linux 6.18 kernel, with the application that ran there written out per scenario in
 * kernel.test.ts. It runs on replay/'s emulation loop (src/replay/emulator.ts: the other side's frames
 * at their capture times on the Host's clock, the application's calls at the frames where the kernel
 * showed them) and is judged by emulate mode's comparison (src/replay/compare.ts: relative to each
 * side's ISN; flags, seq, ack, window, options with TSecr, payload). Unlike emulate mode, it does not
 * infer the application, and it makes the Host's numbers the kernel's:
 *
 * - ISNs: the Host's IsnSource hands out, per 4-tuple, the ISNs the kernel chose (in the order of
 *   its incarnations), so the translation of the peer's frames is the identity for sequence numbers.
 * - Timestamps: the Host's clock runs at capture time plus the phase of the kernel's millisecond
 *   clock (tsPhase), and its per-connection TS offset is the kernel's (kernelIsns), so its TSvals are
 *   the kernel's wherever it sends at the same moment.
 * - Not compared: TSvals (shown), IP header fields, ARP and NDP (synack learns a sender's MAC from its
 *   TCP frame; the kernel asks ARP or NDP).
 * - Segments are paired per 4-tuple in order: segments of different connections that the kernel sent
 *   close together may come out in another order without a difference in any of them.
 */
import { TcpFlags } from '../../src/wire/tcp.js';
import type { TcpRepr } from '../../src/wire/tcp.js';
import type { Host } from '../../src/stack/host.js';
import type { TraceEvent } from '../../src/stack/trace.js';
import type { Endpoint, IsnSource } from '../../src/tcp/env.js';
import type { Personality } from '../../src/tcp/personality.js';
import type { ListenSettings } from '../../src/socket/queues.js';
import type { SocketTable } from '../../src/socket/table.js';
import { EMULATION_BASE_US, emulateHost, hostSegments, judge } from '../../src/replay/index.js';
import type { ActualSegment, AppContext, CapturedSegment, EmulationRun, ExpectedSegment, Pairing } from '../../src/replay/index.js';
import { viewText } from '../../src/replay/index.js';
import { seededRandom } from '../../src/testing/random.js';

/** A TCP segment of the capture, with its frame number as `no`. */
export type Frame = CapturedSegment & { no: number };

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
 * or SYN-ACK (the kernel's own ms clock drifts from the capture's by a millisecond now and then),
 * `clockUs` being the Host's clock at the capture's first frame. TSvals are not compared, but with the
 * kernel's, the TSecr translation is the identity wherever synack sends when the kernel did.
 */
export function kernelIsns(frames: readonly CapturedSegment[], self: readonly string[], clockUs: number): IsnSource & { asked: string[] } {
  const isns = new Map<string, Array<{ isn: number; tsOffset: number }>>();
  for (const f of frames) {
    if (!self.includes(f.src) || (f.tcp.flags & TcpFlags.SYN) === 0) continue;
    const k = tupleKey(f.src, f.tcp.srcPort, f.dst, f.tcp.dstPort);
    const list = isns.get(k) ?? [];
    const ts = f.tcp.options.find((o) => o.kind === 'timestamps');
    const tsOffset = ts !== undefined && ts.kind === 'timestamps' ? (ts.tsVal - Math.floor((f.timeUs + clockUs) / 1000)) >>> 0 : 0;
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
  /** The TCP segments to and from the played side, in capture order (`no`: the frame number). */
  readonly frames: readonly Frame[];
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
export function tsPhase(frames: readonly CapturedSegment[], isSelf: (a: string | null) => boolean): number {
  const pts: Array<{ pair: string; t: number; ts: number }> = [];
  for (const f of frames) {
    if (!isSelf(f.src)) continue;
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
  /** The kernel's segments (expectations) and synack's, made relative to each side's numbers. */
  kernel: ExpectedSegment[];
  synack: ActualSegment[];
  /** Application-level check failures and harness problems. */
  appErrors: string[];
  trace: TraceEvent[];
  isnAsked: string[];
  run: EmulationRun;
}

export function replay(sc: Scenario, path: string): ReplayResult {
  const selfAddrs = [sc.self, ...(sc.moreAddresses ?? [])];
  const read = hostSegments(path, selfAddrs);
  if (read.error !== null) throw new Error(read.error.message);
  const segments = read.segments;
  const frames: Frame[] = segments.map((s) => ({ ...s, no: s.frame }));
  const isSelf = (a: string | null): boolean => a !== null && selfAddrs.includes(a);
  const phase = tsPhase(segments, isSelf);
  // The Host's clock is capture time + EMULATION_BASE_US + phase: the kernel's TS offsets are taken on it.
  const isn = kernelIsns(segments, selfAddrs, EMULATION_BASE_US + phase);
  const appErrors: string[] = [];
  let ctx: AppContext | null = null;
  const bound = (): AppContext => {
    if (ctx === null) throw new Error('the application ran before the Host existed');
    return ctx;
  };
  const app: App = {
    get host() {
      return bound().host;
    },
    get sockets() {
      return bound().sockets;
    },
    frames,
    now: () => bound().now(),
    fail: (msg) => bound().fail(msg),
    kernelFrames(localPort, remote, remotePort, pred) {
      return frames.filter((f) => isSelf(f.src) && f.dst === remote && f.tcp.srcPort === localPort && f.tcp.dstPort === remotePort && pred(f.tcp)).map((f) => f.no);
    },
  };
  const using =
    (run: (app: App) => void) =>
    (c: AppContext): void => {
      ctx = c;
      run(app);
    };
  // The scenario looks at the capture first (deliverBefore may depend on what it finds).
  const actions = sc.actions(app).map((a) => ({
    frame: a.frame,
    when: a.when,
    why: a.why,
    run: (c: AppContext) => {
      ctx = c;
      try {
        a.run(app);
      } catch (err) {
        c.fail(`action "${a.why}" threw: ${String(err)}`);
      }
    },
  }));
  const idle = sc.idle;
  const run = emulateHost({
    segments,
    self: selfAddrs,
    mac: sc.mac,
    neighbors: sc.neighbors,
    personality: sc.personality,
    ...(sc.listen !== undefined ? { listen: sc.listen } : {}),
    isn,
    rand: seededRandom(1),
    app: {
      setup: using((a) => sc.setup(a)),
      actions,
      timed: (sc.timed ?? []).map((t) => ({ atUs: t.atUs, why: t.why, run: using((a) => t.run(a)) })),
      ...(idle !== undefined ? { idle: using((a) => idle(a)) } : {}),
    },
    clockPhaseUs: phase,
    ...(sc.deliverBefore !== undefined ? { deliverBefore: sc.deliverBefore } : {}),
    tailUs: sc.tailUs ?? 1_000_000,
    trace: true,
  });
  appErrors.push(...run.appErrors);
  return { kernel: run.expected, synack: run.actual, appErrors, trace: run.trace, isnAsked: isn.asked, run };
}

// ---- comparison -------------------------------------------------------------------------------------

export interface SegmentComparison {
  /** "frame 18 198.18.0.1:80 > 198.18.0.11:40001 [P.] #3", or "extra ..." for a segment only synack sent. */
  title: string;
  kernel: string | null;
  synack: string | null;
  /** µs from the capture's first frame. */
  kernelTimeUs: number | null;
  synackTimeUs: number | null;
  /** Empty when the segments are equal. */
  diffs: string[];
}

/** Pairs the kernel's and synack's segments per 4-tuple, in order (replay/'s judge), and lists every difference. */
export function compare(r: ReplayResult): SegmentComparison[] {
  const counts = new Map<string, number>();
  const out: SegmentComparison[] = [];
  for (const p of judge(r.run).pairs as Pairing<ExpectedSegment, ActualSegment>[]) {
    const view = p.kind === 'extra' ? p.actual.view : p.expected.view;
    const n = (counts.get(view.tuple) ?? 0) + 1;
    counts.set(view.tuple, n);
    const where = `${view.tuple.replace(' ', ' > ')} [${formatFlags(view.rel.flags)}] #${n}`;
    const e = p.kind === 'extra' ? null : p.expected;
    const a = p.kind === 'missing' ? null : p.actual;
    out.push({
      title: e !== null ? `frame ${e.frame} ${where}` : `extra ${where}`,
      kernel: e === null ? null : viewText(e.view),
      synack: a === null ? null : viewText(a.view),
      kernelTimeUs: e?.timeUs ?? null,
      synackTimeUs: a?.timeUs ?? null,
      diffs:
        p.kind === 'match'
          ? []
          : p.kind === 'differs'
            ? p.fields.map((f) => `${f} differs`)
            : [p.kind === 'missing' ? 'synack did not send it' : 'synack sent a segment the kernel did not'],
    });
  }
  return out.sort((x, y) => (x.kernelTimeUs ?? Infinity) - (y.kernelTimeUs ?? Infinity) || (x.synackTimeUs ?? 0) - (y.synackTimeUs ?? 0));
}

function formatFlags(flags: number): string {
  let s = '';
  for (const [bit, l] of [[TcpFlags.FIN, 'F'], [TcpFlags.SYN, 'S'], [TcpFlags.RST, 'R'], [TcpFlags.PSH, 'P'], [TcpFlags.ACK, '.']] as const) if (flags & bit) s += l;
  return s;
}

/** A readable report of one comparison. */
export function explain(c: SegmentComparison): string {
  const t = (us: number | null): string => (us === null ? '-' : `${(us / 1e6).toFixed(6)} s`);
  return [
    `${c.title}`,
    `  kernel @${t(c.kernelTimeUs)}: ${c.kernel ?? '(nothing)'}`,
    `  synack @${t(c.synackTimeUs)}: ${c.synack ?? '(nothing)'}`,
    ...c.diffs.map((d) => `  ≠ ${d}`),
  ].join('\n');
}
