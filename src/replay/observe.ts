/**
 * Observe-mode replay (DESIGN.md "Replay modes"): every address of a capture is a host model, listeners
 * are inferred from who answered SYNs, and every TCP frame is delivered to its receiver (a demux verdict
 * and a state change) and checked against its sender's state. Captured frames are the truth.
 *
 * Streaming: frames are read one at a time through the capture reader's reused frame object and the
 * FrameDecoder's reused FrameInfo (IP fragments reassembled), and the tracker keeps state only for open
 * connections, briefly for closed ones, and for TIME-WAIT sockets (bounded). Per frame: numbers only, one
 * hash lookup; verdict objects are made only when asked for.
 *
 * Checksums: a segment whose TCP checksum does not verify is counted (per file and per connection, with
 * Zeek's 'C' in the history) and still drives both ends. Zeek ignores such segments for state and tshark
 * does not check by default; in a capture they are nearly always checksum offload (the capturing host's
 * own segments, every one of them bad), and ignoring them would break every connection of such a file.
 */
import { openCapture } from '../capture/reader.js';
import type { CaptureError } from '../capture/errors.js';
import type { CaptureFormat, CaptureFrame, CaptureReader } from '../capture/frame.js';
import { vlanKeyOf } from '../socket/tuple-index.js';
import { segmentVerifies } from '../wire/checksum.js';
import type { FrameInfo } from '../wire/decode.js';
import { FrameDecoder } from '../wire/frame-decoder.js';
import type { DecodedFrame } from '../wire/frame-decoder.js';
import { IpProtocol } from '../wire/ipproto.js';
import { getTcpWindowScale, TCP_HEADER_LEN, TcpFlags } from '../wire/tcp.js';
import { HOST_DEFAULTS, HostRegistry, sortRows } from './hosts.js';
import type { HostTable } from './hosts.js';
import { inferListeners, REPLAY_CHUNK_SIZE } from './listeners.js';
import type { InferredListener } from './listeners.js';
import { tupleHash } from './shard.js';
import { FrameSeg, Tracker } from './tracker.js';
import type { TrackerHooks } from './tracker.js';
import type { ConnectionRecord, DemuxRecord, FrameCounts, ObservedFrame, ReplayOptions, ReplayResult } from './types.js';

export const REPLAY_DEFAULTS = {
  closeLingerUs: 2_000_000,
  timeWaitUs: 60_000_000,
  maxTimeWait: 262144,
  fdLimit: HOST_DEFAULTS.fdLimit,
} as const;

/** onProgress is called every 65,536 frames: often enough for a bar, rare enough to cost nothing. */
const PROGRESS_MASK = 0xffff;

/** Replays a capture (a path, or a reader already open) in observe mode. Damage stops the replay with `error` set, never a throw. */
export function replay(source: string | CaptureReader, options: ReplayOptions = {}): ReplayResult {
  const fromPath = typeof source === 'string';
  const mode = options.inferListeners ?? (fromPath ? 'prepass' : 'lazy');
  if (mode === 'prepass' && !fromPath) throw new RangeError("replay: inferListeners 'prepass' needs a path (a reader cannot be read twice)");
  const obs = new Observer({ ...options, inferListeners: mode }, mode === 'prepass' ? inferListeners(source as string) : []);
  const reader = fromPath ? openCapture(source, { chunkSize: REPLAY_CHUNK_SIZE }) : source;
  const onFrame = options.onFrame;
  let seen: ObservedFrame | null = null;
  try {
    const progress = options.onProgress;
    for (let fr = reader.next(); fr !== null; fr = reader.next()) {
      const verdict = obs.frame(fr);
      if (progress !== undefined && (fr.index & PROGRESS_MASK) === 0) progress(fr.fileOffset, fr.index);
      if (onFrame === undefined) continue;
      if (seen === null) seen = { frame: fr, verdict, decoded: obs.decoded, interfaces: reader.interfaces };
      else {
        seen.frame = fr;
        seen.verdict = verdict;
        seen.decoded = obs.decoded;
        seen.interfaces = reader.interfaces;
      }
      onFrame(seen);
    }
  } finally {
    if (fromPath) reader.close();
  }
  return obs.finish(observeSource(reader));
}

/** What a reader says about its file (after reading it: a pcapng file may describe interfaces as it goes). */
export function observeSource(reader: CaptureReader): ObserveSource {
  const linkTypes: number[] = [];
  for (const i of reader.interfaces) if (!linkTypes.includes(i.linkType)) linkTypes.push(i.linkType);
  return { file: reader.file, format: reader.format, linkTypes, interfaces: reader.interfaces.length, error: reader.error };
}

/** What the source of the frames says about itself, for the result. */
export interface ObserveSource {
  /** The file, or the interface of a live observation. */
  file: string;
  format: CaptureFormat | 'live';
  linkTypes: number[];
  /** Capture interfaces (more than one: connections are split by interface). */
  interfaces: number;
  error: CaptureError | null;
}

/**
 * One shard of a parallel replay (parallel.ts): the TCP frames whose 4-tuple hash (shard.ts) is
 * `index` modulo `of` are this Observer's; every other TCP frame only moves the clock, so lingers and
 * TIME-WAITs end at the same frame as in a replay of the whole file.
 */
export interface ObserverShard {
  readonly index: number;
  readonly of: number;
  readonly hooks: TrackerHooks;
  /** Before the tracker moves for a frame: phase 0 its clock (every TCP frame), phase 1 the frame (this shard's). */
  enter(frame: number, phase: 0 | 1): void;
}

/** A shard's own descriptor limit: none (the merge applies the real one across shards). */
const SHARD_FD_LIMIT = 2 ** 31 - 1;

/**
 * The observe-mode engine, one frame at a time: what `replay()` drives from a file and `synack live`
 * from an interface. Frames go in through `frame()` (the reader's reused frame object is fine: nothing
 * of it is kept); `finish()` reports the connections still open and returns the result.
 */
export class Observer {
  readonly counts: FrameCounts = { total: 0, tcp: 0, malformed: 0, badChecksum: 0, badIpChecksum: 0, truncated: 0, fragments: 0, late: 0, anomalies: 0 };
  private readonly tracker: Tracker;
  private readonly dec = new FrameDecoder();
  private last: DecodedFrame | null = null;
  private readonly seg = new FrameSeg();
  private readonly records: ConnectionRecord[] = [];
  private readonly demux: DemuxRecord[] | undefined;
  private readonly onVerdict: ((v: DemuxRecord) => void) | undefined;
  private readonly wantTables: boolean;
  private readonly tablesAt: number;
  private readonly mode: 'prepass' | 'lazy' | 'off';
  private tables: HostTable[] | null = null;
  private hostsAt: number | null = null;
  private finished = false;
  private readonly shard: ObserverShard | null;

  /**
   * `listeners`: found by a pre-pass over the file (inferListeners); they take the lowest descriptors.
   * `shard`: this Observer replays one shard of the file (parallel.ts).
   */
  constructor(options: ReplayOptions = {}, listeners: readonly InferredListener[] = [], shard: ObserverShard | null = null) {
    this.shard = shard;
    this.mode = options.inferListeners ?? 'lazy';
    const exact = new Set<string>();
    for (const l of options.listen ?? []) exact.add(normaliseEndpoint(l));
    const hosts = new HostRegistry({ fdLimit: options.fdLimit ?? REPLAY_DEFAULTS.fdLimit });
    // Listeners first, so they hold the lowest descriptors, as a server opens them before it accepts.
    const made = new Set<string>();
    for (const l of listeners) {
      const h = hosts.byText(l.address);
      if (h === undefined) continue;
      const name = h.endpointText(l.port);
      made.add(name);
      h.addListener(l.port, exact.has(name));
    }
    for (const name of exact) {
      if (made.has(name)) continue;
      const ep = splitEndpoint(name);
      hosts.byText(ep.address)?.addListener(ep.port, true);
    }
    if (shard !== null) hosts.setFdLimit(SHARD_FD_LIMIT);
    const collect = options.connections ?? true;
    const onConn = options.onConnection;
    this.demux = options.frames ? [] : undefined;
    this.onVerdict = options.onVerdict;
    this.tracker = new Tracker(hosts, {
      connView: options.connView,
      closeLingerUs: options.closeLingerUs ?? REPLAY_DEFAULTS.closeLingerUs,
      timeWaitUs: options.timeWaitUs ?? REPLAY_DEFAULTS.timeWaitUs,
      maxTimeWait: options.maxTimeWait ?? REPLAY_DEFAULTS.maxTimeWait,
      lazyListeners: this.mode === 'lazy',
      exactListeners: exact,
      onConnection: (c) => {
        if (collect) this.records.push(c);
        onConn?.(c);
      },
      verdicts: this.demux !== undefined || this.onVerdict !== undefined || options.onFrame !== undefined || options.verdicts === true,
      hooks: shard?.hooks,
    });
    this.wantTables = options.hostTables ?? true;
    this.tablesAt = options.tablesAt ?? -1;
  }

  /**
   * One captured frame (its number, time, link type and bytes); its verdict goes to `onVerdict` and
   * `frames`, and is returned (null for a frame that is not TCP, or when no one asked for verdicts).
   */
  frame(fr: CaptureFrame): DemuxRecord | null {
    if (this.finished) throw new Error('Observer.frame: called after finish');
    const counts = this.counts;
    const tracker = this.tracker;
    counts.total++;
    const cut = fr.capLen < fr.origLen;
    if (cut) counts.truncated++;
    // The time goes in as the capture gives it (seconds, nanoseconds): small integers, not a heap number.
    const decoded = this.dec.decodeAt(fr.linkType, fr.bytes, fr.offset, fr.capLen, fr.index, fr.tsSec, fr.tsNsec);
    this.last = decoded;
    const info = decoded.info;
    if (info.fragment) counts.fragments++;
    if (!info.ipChecksumOk) counts.badIpChecksum++;
    // A header the snap length cut is the capture's doing, not a malformed frame (as `synack frames` counts).
    if (info.error !== null && !(info.error === 'truncated' && cut)) counts.malformed++;
    let tcp = info.tcp && info.bytes !== null;
    if (tcp && this.shard !== null) tcp = this.ownFrame(fr, info);
    let verdict: DemuxRecord | null = null;
    if (tcp) {
      counts.tcp++;
      if (fr.interfaceId > 0) tracker.multiInterface = true;
      const seg = this.seg;
      fillSeg(seg, info, fr.index, fr.tsSec, fr.tsNsec, fr.interfaceId);
      if (seg.badChecksum) counts.badChecksum++;
      verdict = tracker.frame(seg);
      if (verdict !== null) {
        this.demux?.push(verdict);
        this.onVerdict?.(verdict);
      }
    }
    // Taken after the frame; a non-TCP frame changes nothing.
    if (fr.index === this.tablesAt && this.wantTables) {
      this.tables = socketTables(tracker);
      this.hostsAt = fr.index;
    }
    return verdict;
  }

  /**
   * How the last frame decoded (IP fragments: whether it completed a datagram). The decoder's reused
   * object: valid until the next `frame()`.
   */
  get decoded(): DecodedFrame {
    if (this.last === null) throw new Error('Observer.decoded: no frame yet');
    return this.last;
  }

  /**
   * The clock moved to `timeUs` without a frame (a live capture between frames): closed connections
   * whose linger is over are reported, TIME-WAITs that are due end, as the next frame would do. The
   * frames that follow must not be older (a file replayed later does the same work at its next frame).
   */
  advance(timeUs: number): void {
    if (this.finished) throw new Error('Observer.advance: called after finish');
    this.tracker.advance(timeUs);
  }

  /** Connections not reported yet (open, or closed and lingering). */
  get openConnections(): number {
    return this.tracker.liveConnections;
  }

  /** A TCP frame in a shard: the clock moves; true when the frame is this shard's. */
  private ownFrame(fr: CaptureFrame, info: FrameInfo): boolean {
    const shard = this.shard as ObserverShard;
    if (fr.interfaceId > 0) this.tracker.multiInterface = true;
    shard.enter(fr.index, 0);
    this.tracker.advance(fr.tsSec * 1_000_000 + ((fr.tsNsec / 1000) | 0));
    if (tupleHash(info.bytes as NonNullable<FrameInfo['bytes']>, info.addrOffset, info.addrLen, info.l4Offset) % shard.of !== shard.index) return false;
    shard.enter(fr.index, 1);
    return true;
  }

  /** Each host's socket table as it stands now. */
  socketTables(): HostTable[] {
    return socketTables(this.tracker);
  }

  /** Reports the connections still open and returns the result; the Observer takes no frames after it. */
  finish(source: ObserveSource): ReplayResult {
    if (this.finished) throw new Error('Observer.finish: called twice');
    this.finished = true;
    const tracker = this.tracker;
    if (source.interfaces > 1) tracker.multiInterface = true;
    // The socket tables as the capture leaves them, before the open connections are reported.
    const tables = this.tables ?? (this.wantTables ? socketTables(tracker) : []);
    tracker.finish();
    this.counts.late = tracker.late;
    this.counts.anomalies = tracker.anomalies;
    const records = this.records;
    records.sort((a, b) => a.id - b.id);
    const result: ReplayResult = {
      file: source.file,
      format: source.format,
      linkTypes: source.linkTypes,
      frames: this.counts,
      connections: records,
      hosts: tables,
      hostsAt: this.hostsAt,
      listenerInference: this.mode,
      error: source.error,
    };
    if (this.demux !== undefined) result.demux = this.demux;
    return result;
  }
}

/** Each host's listeners and sockets, with the TIME-WAIT records of its address; hosts with nothing are left out. */
function socketTables(tracker: Tracker): HostTable[] {
  tracker.settleAll();
  const tw = tracker.timeWait.rowsByHost();
  const out: HostTable[] = [];
  for (const h of tracker.hosts.list()) {
    const rows = h.rows();
    const more = tw.get(h.text);
    if (more !== undefined) {
      // One at a time: a busy host's TIME-WAIT rows are too many for a spread's arguments.
      for (const r of more) rows.push(r);
      tw.delete(h.text);
    }
    if (rows.length > 0) out.push({ host: h.text, sockets: sortRows(rows) });
  }
  // Hosts whose only sockets are in TIME-WAIT (their models were let go), by their oldest connection.
  const rest: HostTable[] = [];
  for (const [host, rows] of tw) rest.push({ host, sockets: sortRows(rows) });
  for (const t of rest.sort(byOldestConnection)) out.push(t);
  return out;
}

/** Hosts by the lowest connection id among their sockets, then by address text. */
export function byOldestConnection(a: HostTable, b: HostTable): number {
  const d = oldestConnection(a) - oldestConnection(b);
  return d !== 0 ? d : a.host < b.host ? -1 : a.host > b.host ? 1 : 0;
}

function oldestConnection(h: HostTable): number {
  let m = Number.MAX_SAFE_INTEGER;
  for (const r of h.sockets) if (r.connection !== null && r.connection < m) m = r.connection;
  return m;
}

/** Reads the TCP fields the tracker needs straight from the bytes (no TcpPacket, no TcpRepr per frame). */
function fillSeg(seg: FrameSeg, info: FrameInfo, frame: number, tsSec: number, tsNsec: number, iface: number): void {
  const b = info.bytes as NonNullable<FrameInfo['bytes']>;
  const dv = b.dv;
  const o = info.l4Offset;
  const addrOffset = info.addrOffset;
  const addrLen = info.addrLen === 16 ? 16 : 4;
  const l4Captured = info.l4Captured;
  seg.frame = frame;
  // Microseconds (past 2^31: a double) made here and kept in the reused segment, never passed around.
  seg.timeUs = tsSec * 1_000_000 + ((tsNsec / 1000) | 0);
  seg.b = b;
  seg.addrLen = addrLen;
  seg.srcOff = addrOffset;
  seg.dstOff = addrOffset + addrLen;
  // The four 16-bit fields in two 32-bit reads: the ports, then data offset + flags and the window.
  const ports = dv.getUint32(o);
  seg.sport = ports >>> 16;
  seg.dport = ports & 0xffff;
  seg.seq = dv.getUint32(o + 4);
  seg.ack = dv.getUint32(o + 8);
  const flagsWindow = dv.getUint32(o + 12);
  const flags = (flagsWindow >>> 16) & 0x1ff;
  seg.flags = flags;
  seg.window = flagsWindow & 0xffff;
  const hl = info.tcpHeaderLength;
  const len = info.tcpPayloadLength > 0 ? info.tcpPayloadLength : 0;
  seg.len = len;
  const headerCut = l4Captured < hl;
  seg.headerCut = headerCut;
  const cap = l4Captured - hl;
  seg.captured = cap <= 0 ? 0 : cap < len ? cap : len;
  // Only a segment captured whole can be checked (tshark and Zeek alike leave cut ones unverified).
  seg.badChecksum = l4Captured >= info.l4Length && !segmentVerifies(b, addrOffset, addrLen, IpProtocol.TCP, o, info.l4Length);
  seg.wscale = -1;
  if ((flags & TcpFlags.SYN) !== 0 && !headerCut && hl > TCP_HEADER_LEN) {
    const ws = getTcpWindowScale(b, o + TCP_HEADER_LEN, hl - TCP_HEADER_LEN);
    if (ws >= 0) seg.wscale = ws;
  }
  seg.iface = iface;
  seg.vlanCount = info.vlanCount;
  seg.vlanIds = info.vlanIds;
  seg.key = linkKey(info, iface);
}

/**
 * The link key of a frame: its VLAN stack's key (socket/ vlanKeyOf: 0 untagged, vid + 1 for one tag,
 * a pair for QinQ) mixed with the capture interface, so the same 4-tuple on two VLANs or two interfaces
 * is two connections. One and two tags are computed in place, as vlanKeyOf does, to allocate nothing.
 */
function linkKey(info: FrameInfo, iface: number): number {
  const n = info.vlanCount;
  const ids = info.vlanIds;
  let k: number;
  if (n === 0) k = 0;
  else if (n === 1) k = ((ids[0] as number) & 0xfff) + 1;
  else if (n === 2) k = ((ids[0] as number) & 0xfff) * 4097 + ((ids[1] as number) & 0xfff) + 4098;
  else k = vlanKeyOf(ids.subarray(0, n));
  return iface === 0 ? k : (k + Math.imul(iface, 0x9e3779b1)) >>> 0;
}

/** "ADDR:PORT" or "[V6]:PORT" → its parts; throws RangeError for anything else (a programmer's or user's typo). */
export function splitEndpoint(text: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`not ADDR:PORT: ${JSON.stringify(text)}`);
  return { address: m[1] as string, port };
}

/** The endpoint as hosts print it ("198.18.0.1:25", "[2001:db8::1]:80"). */
function normaliseEndpoint(text: string): string {
  const { address, port } = splitEndpoint(text);
  const h = new HostRegistry().byText(address);
  if (h === undefined) throw new RangeError(`not an IP address: ${JSON.stringify(address)}`);
  return h.endpointText(port);
}
