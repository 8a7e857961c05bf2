/**
 * A ladder (sequence) diagram of one connection, as text: the client's lifeline on the left, the
 * server's on the right, one arrow per segment with its flags, relative sequence and acknowledgment
 * numbers, length, window and options, the frame number and time since the first segment at the left,
 * and each state change written at the side where it happened, in time order. Fits in 100 columns.
 *
 *    frame        time 198.18.0.11:40001 fd 3                      198.18.0.1:80 fd 5 (listener fd 3)
 *                      | CLOSED                                                              LISTEN |
 *        3    0.000000 |-- S seq 0 win 64240 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 10> -------->|
 *                      | SYN-SENT                                                      SYN-RECEIVED |
 *
 * `buildLadder` is the model both this and the SVG drawing (ladder-svg.ts) render.
 */
import type { ConnLabel, ConnSegment, ConnStateNote } from './conn-events.js';
import { TcpFlags, formatTcpFlags } from '../wire/tcp.js';

export interface LadderOptions {
  /** Draw at most this many segments (default: all); a last line says how many were left out. */
  maxSegments?: number;
  /** Show TCP options on the arrows (default true). */
  showOptions?: boolean;
}

/** One row of the diagram: a segment's arrow, or the state changes at either end. */
export type LadderRow =
  | {
      kind: 'segment';
      frame: number;
      /** Seconds since the first segment, "0.000000". */
      time: string;
      fromClient: boolean;
      /** Flags, relative seq/ack, len, window, options: "S. seq 0 ack 1 win 65160 <mss 1460>". */
      label: string;
      rst: boolean;
      badChecksum: boolean;
    }
  | { kind: 'state'; client: string | null; server: string | null };

export interface LadderModel {
  /** "198.18.0.11:40001 fd 3" and "198.18.0.1:80 fd 5 (listener fd 3)". */
  clientTitle: string;
  serverTitle: string;
  rows: LadderRow[];
  /** Segments left out by maxSegments. */
  omitted: number;
}

/** Endpoint titles as the diagram heads its columns. */
export function endpointTitles(label: ConnLabel): { client: string; server: string } {
  let client = label.client;
  if (label.clientFd !== undefined && label.clientFd !== null) client += ` fd ${label.clientFd}`;
  let server = label.server;
  if (label.serverFd !== undefined && label.serverFd !== null) server += ` fd ${label.serverFd}`;
  if (label.listenerFd !== undefined && label.listenerFd !== null) server += ` (listener fd ${label.listenerFd})`;
  return { client, server };
}

/**
 * The text on a segment's arrow. Sequence numbers are relative to the sender's ISN and acknowledgment
 * numbers to the receiver's, when that side's SYN is in the list (`null`: not seen, raw numbers shown).
 */
export function segmentLabel(seg: ConnSegment, senderIsn: number | null, receiverIsn: number | null, showOptions = true): string {
  const seq = senderIsn === null ? seg.seq >>> 0 : (seg.seq - senderIsn) >>> 0;
  let s = `${formatTcpFlags(seg.flags)} seq ${seq}`;
  if ((seg.flags & TcpFlags.ACK) !== 0) s += ` ack ${receiverIsn === null ? seg.ack >>> 0 : (seg.ack - receiverIsn) >>> 0}`;
  if (seg.payloadLength > 0) s += ` len ${seg.payloadLength}`;
  s += ` win ${seg.window}`;
  if (showOptions && seg.options !== '') s += ` <${seg.options}>`;
  if (seg.badChecksum) s += ' [bad cksum]';
  return s;
}

/** Each side's ISN: the sequence number of its first SYN in the list, or null. */
function isns(segments: readonly ConnSegment[]): { client: number | null; server: number | null } {
  let client: number | null = null;
  let server: number | null = null;
  for (const s of segments) {
    if ((s.flags & TcpFlags.SYN) === 0) continue;
    if (s.fromClient && client === null) client = s.seq >>> 0;
    if (!s.fromClient && server === null) server = s.seq >>> 0;
    if (client !== null && server !== null) break;
  }
  return { client, server };
}

/**
 * The rows of the diagram: segments and state notes merged in time order (a note at the same time and
 * frame as a segment comes after it: the segment caused it), the sides' first states on top.
 */
export function buildLadder(label: ConnLabel, segments: readonly ConnSegment[], states: readonly ConnStateNote[], opts: LadderOptions = {}): LadderModel {
  const titles = endpointTitles(label);
  const showOptions = opts.showOptions ?? true;
  const max = opts.maxSegments ?? Infinity;
  const isn = isns(segments);
  const notes = [...states].sort((a, b) => a.timeUs - b.timeUs || a.frame - b.frame);
  const t0 = segments.length > 0 ? (segments[0] as ConnSegment).timeUs : notes.length > 0 ? (notes[0] as ConnStateNote).timeUs : 0;
  const rows: LadderRow[] = [];

  const firstClient = notes.find((n) => n.side === 'client');
  const firstServer = notes.find((n) => n.side === 'server');
  if (firstClient !== undefined || firstServer !== undefined) {
    rows.push({ kind: 'state', client: firstClient?.from ?? null, server: firstServer?.from ?? null });
  }

  let ni = 0;
  // The state row the next note may join: both ends changing on the same frame share one row.
  let open: { row: { kind: 'state'; client: string | null; server: string | null }; frame: number } | null = null;
  const pushNote = (n: ConnStateNote): void => {
    if (open !== null && open.frame === n.frame && (n.side === 'client' ? open.row.client === null : open.row.server === null)) {
      if (n.side === 'client') open.row.client = n.to;
      else open.row.server = n.to;
      return;
    }
    const row = { kind: 'state' as const, client: n.side === 'client' ? n.to : null, server: n.side === 'server' ? n.to : null };
    rows.push(row);
    open = { row, frame: n.frame };
  };

  const shown = Math.min(segments.length, max);
  for (let i = 0; i < shown; i++) {
    const s = segments[i] as ConnSegment;
    while (ni < notes.length && before(notes[ni] as ConnStateNote, s)) pushNote(notes[ni++] as ConnStateNote);
    open = null;
    rows.push({
      kind: 'segment',
      frame: s.frame,
      time: seconds(s.timeUs - t0),
      fromClient: s.fromClient,
      label: segmentLabel(s, s.fromClient ? isn.client : isn.server, s.fromClient ? isn.server : isn.client, showOptions),
      rst: (s.flags & TcpFlags.RST) !== 0,
      badChecksum: s.badChecksum,
    });
  }
  // Notes after the last segment shown belong to it, unless later segments were left out.
  const limit = shown < segments.length ? (segments[shown] as ConnSegment) : null;
  while (ni < notes.length && (limit === null || before(notes[ni] as ConnStateNote, limit))) pushNote(notes[ni++] as ConnStateNote);
  return { clientTitle: titles.client, serverTitle: titles.server, rows, omitted: segments.length - shown };
}

/** Seconds as "0.000123", with fewer decimals (or an exponent) when that would pass 11 characters. */
function seconds(us: number): string {
  const sec = us / 1e6;
  for (const digits of [6, 3, 0]) {
    const t = sec.toFixed(digits);
    if (t.length <= 11) return t;
  }
  return sec.toExponential(3);
}

/** The note happened before the segment (ties on time and frame: the segment first). */
function before(n: ConnStateNote, s: ConnSegment): boolean {
  return n.timeUs < s.timeUs || (n.timeUs === s.timeUs && n.frame < s.frame);
}

// ---------------------------------------------------------------------------------------------------
// Text rendering

const WIDTH = 100;
/** "frame" (6) + space + "time" (11) + space: the client lifeline is column 19. */
const GUTTER = 19;
/** Between the two lifelines (columns 19 and 99). */
const INNER = WIDTH - GUTTER - 2;
/** Room for a label on an arrow: "-- " + label + " " + at least one "-" + "->". */
const MAX_LABEL = INNER - 7;

function fitLabel(label: string): string {
  if (label.length <= MAX_LABEL) return label;
  // Leave out options from the end, whole ones, marking the cut with "...".
  const tail = label.endsWith(' [bad cksum]') ? ' [bad cksum]' : '';
  const body = label.slice(0, label.length - tail.length);
  const lt = body.indexOf(' <');
  if (lt >= 0 && body.endsWith('>')) {
    const head = body.slice(0, lt);
    const opts = body.slice(lt + 2, -1).split(',');
    while (opts.length > 0) {
      opts.pop();
      const s = opts.length > 0 ? `${head} <${opts.join(',')},...>${tail}` : `${head} <...>${tail}`;
      if (s.length <= MAX_LABEL) return s;
    }
  }
  return `${label.slice(0, MAX_LABEL - 3)}...`;
}

function arrow(label: string, toServer: boolean): string {
  const l = fitLabel(label);
  const dashes = '-'.repeat(INNER - l.length - 6);
  return toServer ? `-- ${l} ${dashes}->` : `<-${dashes} ${l} --`;
}

function stateInner(client: string | null, server: string | null): string {
  const left = client === null ? '' : ` ${client}`;
  const right = server === null ? '' : `${server} `;
  const pad = Math.max(1, INNER - left.length - right.length);
  return `${left}${' '.repeat(pad)}${right}`.slice(0, INNER).padEnd(INNER);
}

/** The diagram as lines of at most 100 columns, joined with '\n' (no trailing newline). */
export function ladderText(label: ConnLabel, segments: readonly ConnSegment[], states: readonly ConnStateNote[], opts: LadderOptions = {}): string {
  const m = buildLadder(label, segments, states, opts);
  const lines: string[] = [];
  const head = `${'frame'.padStart(6)} ${'time'.padStart(11)} `;
  const room = WIDTH - GUTTER;
  if (m.clientTitle.length + 1 + m.serverTitle.length <= room) {
    lines.push(head + m.clientTitle + m.serverTitle.padStart(room - m.clientTitle.length));
  } else {
    lines.push(head + m.clientTitle.slice(0, room));
    lines.push(' '.repeat(GUTTER) + m.serverTitle.slice(0, room).padStart(room));
  }
  const blank = ' '.repeat(GUTTER);
  for (const r of m.rows) {
    if (r.kind === 'state') lines.push(`${blank}|${stateInner(r.client, r.server)}|`);
    else {
      const gutter = `${String(r.frame).padStart(6)} ${r.time.padStart(11)} `;
      lines.push(`${gutter}|${arrow(r.label, r.fromClient)}|`);
    }
  }
  if (m.omitted > 0) lines.push(`${blank}... ${m.omitted} more segment${m.omitted === 1 ? '' : 's'} not shown`);
  return lines.join('\n');
}
