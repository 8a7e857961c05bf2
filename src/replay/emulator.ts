/**
 * The emulation loop: a synack Host stands where the captured host stood. Its clock runs at capture
 * time; the peer's segments reach it at their capture times, translated to its own sequence numbers
 * and timestamps (translate.ts); an application (inferred, infer-app.ts, or written by hand in a test)
 * makes its calls at the frames where the captured host's kernel showed them; its timers fire between
 * frames. What it sends is collected, made relative to its own ISNs (compare.ts), next to the captured
 * host's segments made relative to theirs.
 *
 * Time: µs from the capture's first frame plus `baseUs` (1 s, so that nothing happens at time 0) plus
 * an optional phase (a test that wants the kernel's millisecond ticks, for equal TSvals).
 */
import { bytesOf } from '../wire/bytes.js';
import { emitFrame, parseFrame } from '../wire/frame.js';
import { LinkType } from '../wire/linktype.js';
import { tcpFrameRepr } from '../wire/tcp-frame.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { IsnSource, Random } from '../tcp/env.js';
import type { Personality } from '../tcp/personality.js';
import type { ListenSettings } from '../socket/queues.js';
import type { SocketTable } from '../socket/table.js';
import { Host } from '../stack/host.js';
import type { TraceEvent } from '../stack/trace.js';
import { SideBook } from './compare.js';
import type { SegmentView } from './compare.js';
import { endpointText, hostTuple } from './segments.js';
import type { CapturedSegment } from './segments.js';
import { planTranslation, Translator } from './translate.js';

/** The application's view of the emulated host. */
export interface AppContext {
  readonly host: Host;
  readonly sockets: SocketTable;
  /** The segments of the capture (the host's and its peers'), in capture order. */
  readonly segments: readonly CapturedSegment[];
  /** Now, on the Host's clock (the socket table's time is set too). */
  now(): number;
  /** Frame number of the last segment delivered or action run (0 before the first). */
  readonly position: number;
  /**
   * What `idle` runs after: a delivered segment (`touched` is its 4-tuple, "local remote": no other
   * connection's receive side changed), timers (no data or SYN arrived: only a connection a timer ended
   * can have news), or a call or the start (anything may have changed).
   */
  readonly cause: 'segment' | 'timers' | 'call';
  readonly touched: string | null;
  /** Records something the application could not do as the capture says it did. */
  fail(msg: string): void;
}

export interface AppAction {
  /** Runs at the time of this capture frame: before it is delivered ('at') or right after ('after'). */
  frame: number;
  when: 'at' | 'after';
  why: string;
  run(app: AppContext): void;
}

export interface TimedAction {
  /** µs from the capture's first frame. */
  atUs: number;
  why: string;
  run(app: AppContext): void;
}

export interface EmulationApp {
  /** Before the first frame: sockets, bind, listen. */
  setup(app: AppContext): void;
  actions: readonly AppAction[];
  timed?: readonly TimedAction[];
  /** After every delivered segment, timer run and action: what a blocking or event-driven program does on its own. */
  idle?(app: AppContext): void;
}

export interface EmulationInput {
  /** In the order the host received them (receive-order.ts), which is capture order but for `deliverBefore`. */
  segments: readonly CapturedSegment[];
  /** The emulated host's addresses. */
  self: readonly string[];
  mac: string;
  /** Neighbours known from the start (IP → MAC), so no ARP or NDP delays a segment. */
  neighbors: Record<string, string>;
  personality: Personality;
  listen?: Partial<ListenSettings>;
  isn: IsnSource;
  rand: Random;
  app: EmulationApp;
  /** Added to the clock (µs, 0..999): see the header. */
  clockPhaseUs?: number;
  /** Peer frames the host processed at another moment than the capture shows: frame → delivered just before that frame ... */
  deliverBefore?: Readonly<Record<number, number>>;
  /** ... or right after the application's calls at that frame. */
  deliverAfter?: Readonly<Record<number, number>>;
  /** How long timers keep running after the last frame, µs (default 0: what the capture cannot show is not compared). */
  tailUs?: number;
  /** Keep the Host's trace events. */
  trace?: boolean;
}

/** A segment the captured host sent. */
export interface ExpectedSegment {
  frame: number;
  /** µs from the capture's first frame. */
  timeUs: number;
  view: SegmentView;
}

/** A segment synack sent. */
export interface ActualSegment {
  /** Order of sending, from 1. */
  no: number;
  /** µs from the capture's first frame. */
  timeUs: number;
  tcp: TcpRepr;
  view: SegmentView;
}

export interface EmulationRun {
  expected: ExpectedSegment[];
  actual: ActualSegment[];
  /**
   * Peer segments not fed to the host: a bad checksum, from a peer whose other segments are good (the
   * captured host dropped it too). A peer whose every segment is bad was captured with checksum
   * offload (or rewritten): its segments are fed, with correct checksums.
   */
  undelivered: Array<{ frame: number; reason: 'bad-checksum' }>;
  /** Peer segments whose payload the capture cut: fed with zeros in place of the bytes not captured. */
  zeroFilled: number[];
  appErrors: string[];
  /** The first frame of each connection ("tuple#incarnation", as SegmentView.conn), the peer's or the host's. */
  firstFrames: Map<string, number>;
  trace: TraceEvent[];
  host: Host;
}

/** The Host's clock at the capture's first frame, before the phase (1 s: nothing happens at time 0). */
export const EMULATION_BASE_US = 1_000_000;
/** The MAC the peers' frames come from when the capture's link type has none (SLL, raw IP). */
export const PEER_MAC = '02:00:00:00:00:fe';

interface Ev {
  time: number;
  order: number;
  seg?: CapturedSegment;
  action?: AppAction;
  timed?: TimedAction;
}

export function emulateHost(input: EmulationInput): EmulationRun {
  const base = EMULATION_BASE_US + (input.clockPhaseUs ?? 0);
  let nowUs = 0;
  const clock = { now: (): number => nowUs };
  const setTime = (us: number): void => void (nowUs = Math.max(nowUs, us));
  const translator = new Translator();
  const plan = planTranslation(input.segments);
  const actualBook = new SideBook();
  const actual: ActualSegment[] = [];
  const appErrors: string[] = [];
  const undelivered: EmulationRun['undelivered'] = [];
  const zeroFilled: number[] = [];
  // Senders with at least one good checksum: their bad ones are corrupt, not offloaded.
  const someGood = new Set<string>();
  for (const s of input.segments) if (!s.truncated && s.checksumOk) someGood.add(s.src);
  const self = input.self;
  const v6 = self.some((a) => a.includes(':'));
  const host = new Host({
    name: `synack as ${self.join(', ')}`,
    mac: input.mac,
    ...(v6 ? { ipv6: [...self] } : { ipv4: [...self] }),
    env: { clock, rand: input.rand, isn: input.isn },
    personality: input.personality,
    ...(input.listen !== undefined ? { listen: input.listen } : {}),
    neighbors: input.neighbors,
    trace: input.trace ?? false,
    sink(frame, timeUs) {
      const net = parseFrame(LinkType.ETHERNET, bytesOf(frame), 0, frame.length).net;
      if ((net.kind !== 'ipv4' && net.kind !== 'ipv6') || net.payload.kind !== 'tcp') return;
      const t = net.payload.tcp;
      const tuple = `${endpointText(net.header.src, t.srcPort)} ${endpointText(net.header.dst, t.dstPort)}`;
      translator.noteSent(tuple, t);
      actual.push({ no: actual.length + 1, timeUs: timeUs - base, tcp: t, view: actualBook.local(tuple, t) });
    },
  });
  let position = 0;
  let touched: string | null = null;
  let cause: AppContext['cause'] = 'call';
  const app: AppContext = {
    host,
    sockets: host.sockets,
    segments: input.segments,
    now: () => host.now(),
    get position() {
      return position;
    },
    get touched() {
      return touched;
    },
    get cause() {
      return cause;
    },
    fail: (msg) => appErrors.push(`${((nowUs - base) / 1e6).toFixed(6)} s: ${msg}`),
  };

  const byFrame = new Map(input.segments.map((s) => [s.frame, s]));
  const events: Ev[] = [];
  for (const s of input.segments) {
    if (s.fromHost) continue;
    const before = input.deliverBefore?.[s.frame];
    const after = input.deliverAfter?.[s.frame];
    const moved = before ?? after;
    const at = moved === undefined ? s : byFrame.get(moved);
    if (at === undefined) throw new RangeError(`deliverBefore/deliverAfter: no frame ${moved}`);
    // Per frame: 'at' calls (4n), its delivery (4n + 1), 'after' calls (4n + 2); one delivered before it, 4n - 1.
    events.push({ time: at.timeUs, order: before !== undefined ? before * 4 - 1 : (after ?? s.frame) * 4 + 1, seg: s });
  }
  for (const a of input.app.actions) {
    const f = byFrame.get(a.frame);
    if (f === undefined) throw new RangeError(`action "${a.why}": no frame ${a.frame}`);
    events.push({ time: f.timeUs, order: a.frame * 4 + (a.when === 'at' ? 0 : 2), action: a });
  }
  for (const t of input.app.timed ?? []) events.push({ time: t.atUs, order: Number.MAX_SAFE_INTEGER, timed: t });
  events.sort((a, b) => a.time - b.time || a.order - b.order);

  const idle = (): void => input.app.idle?.(app);
  const runTimers = (until: number): void => {
    for (;;) {
      const due = host.pollAt();
      if (due === null || due > until) break;
      setTime(due);
      host.poll(nowUs);
      cause = 'timers';
      idle();
    }
  };

  setTime(base - 1);
  host.now();
  input.app.setup(app);
  for (const e of events) {
    runTimers(e.time + base);
    setTime(e.time + base);
    host.now();
    cause = 'call';
    if (e.seg !== undefined) {
      position = Math.max(position, e.seg.frame);
      deliver(e.seg);
      touched = hostTuple(e.seg);
      cause = 'segment';
    } else if (e.action !== undefined) {
      position = Math.max(position, e.action.frame);
      e.action.run(app);
    } else if (e.timed !== undefined) e.timed.run(app);
    idle();
    touched = null;
  }
  let last = 0;
  for (const s of input.segments) last = Math.max(last, s.timeUs);
  runTimers(last + base + (input.tailUs ?? 0));

  function deliver(s: CapturedSegment): void {
    if (!s.checksumOk && someGood.has(s.src)) {
      // Linux drops a segment whose checksum fails (tcp_v4_rcv → csum_error): the captured host never saw it.
      undelivered.push({ frame: s.frame, reason: 'bad-checksum' });
      return;
    }
    const tcp = translator.translate(s, plan.get(s.frame));
    if (s.truncated) {
      const whole = new Uint8Array(s.payloadLength);
      whole.set(s.tcp.payload.subarray(0, s.payloadLength));
      tcp.payload = whole;
      zeroFilled.push(s.frame);
    }
    actualBook.notePeer(hostTuple(s), s.tcp);
    const bytes = emitFrame(tcpFrameRepr({ srcMac: s.srcMac ?? PEER_MAC, dstMac: input.mac, src: s.src, dst: s.dst, tcp }));
    host.input(bytes, nowUs);
  }

  // The captured host's side, relative to its own numbers, in capture order.
  const expectedBook = new SideBook();
  const expected: ExpectedSegment[] = [];
  const firstFrames = new Map<string, number>();
  for (const s of input.segments) {
    const tuple = hostTuple(s);
    if (s.fromHost) expected.push({ frame: s.frame, timeUs: s.timeUs, view: expectedBook.local(tuple, s.tcp, s.payloadLength) });
    else expectedBook.notePeer(tuple, s.tcp);
    const conn = expectedBook.connOf(tuple);
    firstFrames.set(conn, Math.min(firstFrames.get(conn) ?? s.frame, s.frame));
  }
  return { expected, actual, undelivered, zeroFilled, appErrors, firstFrames, trace: host.trace, host };
}
