/**
 * Emulate mode (DESIGN.md "Replay modes", `synack replay FILE --host ADDR`): synack's own stack stands
 * where one host of a capture stood, and every segment that host sent is an expectation.
 *
 *   const r = emulate('fixtures/web-mail-v4.pcap', { host: '198.18.0.1' });
 *   r.matched === r.expected   // every segment the Linux kernel sent, synack sent too
 *
 * The application is inferred from the capture (infer-app.ts); synack picks its own ISNs (RFC 6528,
 * keyed from `seed`) and the peer's segments are translated to them (translate.ts); the comparison is
 * relative to each side's numbers (compare.ts). Bad input (an address that is not in the capture, a
 * damaged file) is `error`, with whatever could be emulated before it.
 */
import type { CaptureFormat, CaptureReader } from '../capture/frame.js';
import { allocBytes } from '../wire/bytes.js';
import { formatIpv6, isIpv4, isIpv6, writeIpv6 } from '../wire/address.js';
import { rfc6528Isn } from '../tcp/isn.js';
import { seededRandom } from '../tcp/random.js';
import { linux } from '../tcp/personality.js';
import type { Personality } from '../tcp/personality.js';
import type { ListenSettings } from '../socket/queues.js';
import { appFromPlan } from './app-runtime.js';
import { pair, viewText } from './compare.js';
import type { Pairing } from './compare.js';
import { emulateHost, PEER_MAC } from './emulator.js';
import type { ActualSegment, EmulationRun, ExpectedSegment } from './emulator.js';
import { inferApp } from './infer-app.js';
import type { AppPlan } from './infer-app.js';
import { receiveOrder } from './receive-order.js';
import { hostSegments } from './segments.js';
import type { CapturedSegment } from './segments.js';

export interface EmulateOptions {
  /** The address of the host synack plays. */
  host: string;
  /** Default `linux`. */
  personality?: Personality;
  /** Seeds the ISN key, the timestamp offsets and every other random choice (default 1). */
  seed?: number;
  listen?: Partial<ListenSettings>;
  /** Timers keep running this long after the last frame, µs (default 0: the capture cannot show more). */
  tailUs?: number;
}

/** One difference, both segments in packetdrill notation, relative to each side's own numbers. */
export interface EmulateDiff {
  /** differs: a segment in the same place, not the same; missing: synack did not send it; extra: the host did not. */
  kind: 'differs' | 'missing' | 'extra';
  /** The expected segment's frame number (null for an extra one). */
  frame: number | null;
  /** "198.18.0.1:80 > 198.18.0.11:40001". */
  segment: string;
  expected: string | null;
  actual: string | null;
  /** Seconds from the capture's first frame. */
  expectedTime: number | null;
  actualTime: number | null;
  /** What differs: flags, seq, ack, win, options, data. */
  fields: string[];
}

/** One connection of the emulated host (a 4-tuple, or its next use after a new SYN). */
export interface EmulateConnection {
  local: string;
  remote: string;
  /** First frame of the host's or the peer's in the capture (null for one only synack opened). */
  firstFrame: number | null;
  expected: number;
  matched: number;
  /** Segments synack sent that the host did not. */
  extra: number;
}

export interface EmulateResult {
  host: string;
  file: string;
  format: CaptureFormat;
  personality: string;
  /** Segments the captured host sent, and how many of them synack sent alike. */
  expected: number;
  matched: number;
  /** Every difference, in time order. */
  diffs: EmulateDiff[];
  connections: EmulateConnection[];
  /** The inferred application. */
  app: AppPlan;
  /** Peer frames not fed to synack (bad checksums from a peer whose other checksums are good: the captured host dropped them too). */
  undelivered: EmulationRun['undelivered'];
  /** Peer frames whose payload the capture cut, fed with zeros in place of the missing bytes. */
  zeroFilled: number[];
  /**
   * Peer frames fed at another moment than the capture shows (receive-order.ts): before a host frame that
   * acknowledges them, or after the host frames they acknowledge.
   */
  reordered: Array<{ frame: number; before: number } | { frame: number; after: number }>;
  /** Calls of the inferred application that could not be made as planned. */
  appErrors: string[];
  /** Bad input, said for a person (with what was emulated before it), or null. */
  error: string | null;
}

export function emulate(source: string | CaptureReader, options: EmulateOptions): EmulateResult {
  const personality = options.personality ?? linux;
  const host = normaliseAddress(options.host);
  const fail = (file: string, format: CaptureFormat, error: string): EmulateResult => ({
    host: options.host,
    file,
    format,
    personality: personality.name,
    expected: 0,
    matched: 0,
    diffs: [],
    connections: [],
    app: { listeners: [], calls: [], notes: [] },
    undelivered: [],
    zeroFilled: [],
    reordered: [],
    appErrors: [],
    error,
  });
  if (host === null) return fail(typeof source === 'string' ? source : source.file, 'unknown', `--host ${options.host}: not an IPv4 or IPv6 address`);
  const read = hostSegments(source, [host]);
  if (read.segments.length === 0) {
    if (read.error !== null) return fail(read.file, read.format, read.error.message);
    const seen = read.addresses.length === 0 ? 'no TCP at all' : `addresses: ${read.addresses.slice(0, 12).join(', ')}${read.addresses.length > 12 ? ', ...' : ''}`;
    return fail(read.file, read.format, `--host ${options.host}: no TCP segment to or from it in ${read.file} (${seen})`);
  }
  // Both ends on the host (a capture on loopback): there is no peer to feed; emulate mode plays one end.
  const segments0 = read.segments.filter((s) => s.src !== s.dst);
  const loopback = read.segments.length - segments0.length;
  if (segments0.length === 0) return fail(read.file, read.format, `--host ${options.host}: every TCP segment has both ends on it (loopback); emulate mode plays one end of a connection`);
  const order = receiveOrder(segments0);
  const segments = order.segments;
  const plan = inferApp(segments);
  if (loopback > 0) plan.notes.push(`${loopback} segments with both ends on ${host} (loopback) left out`);
  const seed = options.seed ?? 1;
  const run = emulateHost({
    segments,
    self: [host],
    mac: hostMac(segments),
    neighbors: neighbors(segments),
    personality,
    ...(options.listen !== undefined ? { listen: options.listen } : {}),
    isn: rfc6528Isn(seededRandom(seed ^ 0x6528)),
    rand: seededRandom(seed),
    app: appFromPlan(plan),
    deliverBefore: order.deliverBefore,
    deliverAfter: order.deliverAfter,
    ...(options.tailUs !== undefined ? { tailUs: options.tailUs } : {}),
  });
  const { diffs, connections, matched } = judge(run);
  return {
    host,
    file: read.file,
    format: read.format,
    personality: personality.name,
    expected: run.expected.length,
    matched,
    diffs,
    connections,
    app: plan,
    undelivered: run.undelivered,
    zeroFilled: run.zeroFilled,
    reordered: [
      ...Object.entries(order.deliverBefore).map(([f, at]) => ({ frame: Number(f), before: at })),
      ...Object.entries(order.deliverAfter).map(([f, at]) => ({ frame: Number(f), after: at })),
    ].sort((a, b) => a.frame - b.frame),
    appErrors: run.appErrors,
    error: read.error === null ? null : `${read.error.message} (emulated up to there)`,
  };
}

/** Pairs expected and actual segments per 4-tuple and sums them up per connection. */
export function judge(run: Pick<EmulationRun, 'expected' | 'actual' | 'firstFrames'>): { pairs: Pairing<ExpectedSegment, ActualSegment>[]; diffs: EmulateDiff[]; connections: EmulateConnection[]; matched: number } {
  const byTuple = new Map<string, { e: ExpectedSegment[]; a: ActualSegment[] }>();
  const slot = (t: string): { e: ExpectedSegment[]; a: ActualSegment[] } => {
    let s = byTuple.get(t);
    if (s === undefined) byTuple.set(t, (s = { e: [], a: [] }));
    return s;
  };
  for (const e of run.expected) slot(e.view.tuple).e.push(e);
  for (const a of run.actual) slot(a.view.tuple).a.push(a);
  const conns = new Map<string, EmulateConnection>();
  const conn = (key: string, tuple: string): EmulateConnection => {
    let c = conns.get(key);
    if (c === undefined) {
      const [local, remote] = tuple.split(' ') as [string, string];
      conns.set(key, (c = { local, remote, firstFrame: run.firstFrames.get(key) ?? null, expected: 0, matched: 0, extra: 0 }));
    }
    return c;
  };
  const pairs: Pairing<ExpectedSegment, ActualSegment>[] = [];
  const diffs: EmulateDiff[] = [];
  let matched = 0;
  for (const [tuple, { e, a }] of byTuple) {
    let lastConn: EmulateConnection | null = null;
    const segment = tuple.replace(' ', ' > ');
    for (const p of pair(e, a)) {
      pairs.push(p);
      if (p.kind === 'extra') {
        const c = lastConn ?? conn(p.actual.view.conn, tuple);
        c.extra++;
        diffs.push({ kind: 'extra', frame: null, segment, expected: null, actual: viewText(p.actual.view), expectedTime: null, actualTime: p.actual.timeUs / 1e6, fields: [] });
        continue;
      }
      const c = conn(p.expected.view.conn, tuple);
      lastConn = c;
      c.expected++;
      if (p.kind === 'match') {
        c.matched++;
        matched++;
        continue;
      }
      diffs.push({
        kind: p.kind,
        frame: p.expected.frame,
        segment,
        expected: viewText(p.expected.view),
        actual: p.kind === 'differs' ? viewText(p.actual.view) : null,
        expectedTime: p.expected.timeUs / 1e6,
        actualTime: p.kind === 'differs' ? p.actual.timeUs / 1e6 : null,
        fields: p.kind === 'differs' ? p.fields : [],
      });
    }
  }
  diffs.sort((x, y) => (x.expectedTime ?? x.actualTime ?? 0) - (y.expectedTime ?? y.actualTime ?? 0));
  const connections = [...conns.values()].sort((x, y) => (x.firstFrame ?? Infinity) - (y.firstFrame ?? Infinity));
  return { pairs, diffs, connections, matched };
}

/** The address as the capture prints it ("2001:DB8::0:1" → "2001:db8::1"), or null if it is none. */
function normaliseAddress(text: string): string | null {
  if (isIpv4(text)) return text;
  if (!isIpv6(text)) return null;
  const b = allocBytes(16);
  writeIpv6(text, b, 0);
  return formatIpv6(b, 0);
}

/** The host's MAC: the source of its frames, or the destination of its peers' (locally administered if none). */
function hostMac(segments: readonly CapturedSegment[]): string {
  for (const s of segments) if (s.fromHost && s.srcMac !== null) return s.srcMac;
  for (const s of segments) if (!s.fromHost && s.dstMac !== null) return s.dstMac;
  return '02:00:00:00:00:01';
}

/**
 * Next hops as the captured host used them (or as its peers sent from), so no ARP or NDP delays a
 * segment; on a link type without MACs (SLL, raw IP), the one the emulator sends the peers' frames from.
 */
function neighbors(segments: readonly CapturedSegment[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of segments) if (s.fromHost && s.dstMac !== null) out[s.dst] ??= s.dstMac;
  for (const s of segments) if (!s.fromHost && s.srcMac !== null) out[s.src] ??= s.srcMac;
  for (const s of segments) out[s.fromHost ? s.dst : s.src] ??= PEER_MAC;
  return out;
}
