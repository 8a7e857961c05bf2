/**
 * Emulate mode's comparison: the segments the captured host sent (expected) against the ones synack
 * sent in its place (actual), each made relative to its own side's numbers, as packetdrill prints them.
 *
 * - Sequence numbers count from the ISN of the side that owns them, in force when the segment left:
 *   seq from the sender's ISN, ack and SACK blocks from the peer's. Where the sender has no ISN on the
 *   4-tuple (a RST answering a SYN to a closed port) seq stays absolute, on both sides alike.
 * - Timestamps: TSval counts from the sender's first TSval of the connection and is shown, never
 *   compared (each host's millisecond clock ticks at its own moments); TSecr counts from the peer's first
 *   TSval and is compared (the peer's values reach both hosts unchanged, so both must echo the same one).
 * - Compared: flags, seq, ack, the window field as sent (unscaled), options in order with their values,
 *   and the payload bytes.
 * - Pairing is per 4-tuple, in order, resynchronised over a few segments so that one segment too many or
 *   too few shows as that, not as a difference in every segment after it. Segments of different
 *   connections sent close together may leave in another order without a difference.
 */
import { TcpFlags } from '../wire/tcp.js';
import type { TcpOption, TcpRepr } from '../wire/tcp.js';
import { optionText, segmentText } from '../wire/tcp-text.js';
import { tsVal } from './translate.js';

/** The numbers one side of a replay has seen on each 4-tuple ("local remote"). */
interface TupleBook {
  localIsn: number | null;
  peerIsn: number | null;
  localTs: number | null;
  peerTs: number | null;
  /** Connection number on this 4-tuple: a SYN with a new ISN from a side that already had one starts the next. */
  incarnation: number;
  /** "tuple#incarnation", made once per incarnation: every view of the connection shares it. */
  conn: string;
}

/** One segment the emulated host sent, made relative, with the connection it belongs to. */
export interface SegmentView {
  tuple: string;
  /** "tuple#incarnation". */
  conn: string;
  /** The segment with relative numbers, for printing. */
  rel: TcpRepr;
  /** Compared face of the options (TSval left out). */
  options: string;
  /** Payload bytes known (a capture's snap length may have cut them) and the full length. */
  payload: Uint8Array;
  length: number;
}

/** Keeps each 4-tuple's ISNs and first timestamps as one side saw them, in the order it saw them. */
export class SideBook {
  private readonly tuples = new Map<string, TupleBook>();

  private book(tuple: string): TupleBook {
    let b = this.tuples.get(tuple);
    if (b === undefined) {
      b = { localIsn: null, peerIsn: null, localTs: null, peerTs: null, incarnation: 0, conn: `${tuple}#0` };
      this.tuples.set(tuple, b);
    }
    return b;
  }

  /** A segment the peer sent on `tuple` (a SYN sets the peer's ISN). */
  notePeer(tuple: string, t: TcpRepr): void {
    const b = this.book(tuple);
    const ts = tsVal(t);
    // A retransmitted SYN, or the SYN-ACK of a simultaneous open, repeats the ISN: the bases stay.
    if (t.flags & TcpFlags.SYN && b.peerIsn !== t.seq) {
      if (b.peerIsn !== null) newIncarnation(b, tuple);
      b.peerIsn = t.seq;
      b.peerTs = ts;
    } else if (b.peerTs === null) b.peerTs = ts;
  }

  /** A segment the host sent on `tuple`: noted, and returned relative. */
  local(tuple: string, t: TcpRepr, payloadLength = t.payload.length): SegmentView {
    const b = this.book(tuple);
    const ts = tsVal(t);
    if (t.flags & TcpFlags.SYN && b.localIsn !== t.seq) {
      if (b.localIsn !== null) newIncarnation(b, tuple);
      b.localIsn = t.seq;
      b.localTs = ts;
    } else if (b.localTs === null) b.localTs = ts;
    const rel: TcpRepr = {
      ...t,
      seq: b.localIsn === null ? t.seq : (t.seq - b.localIsn) >>> 0,
      ack: (t.flags & TcpFlags.ACK) === 0 || b.peerIsn === null ? t.ack : (t.ack - (b.peerIsn as number)) >>> 0,
      options: t.options.map((o) => relOption(o, b)),
    };
    return { tuple, conn: b.conn, rel, options: rel.options.map(optionFace).join(','), payload: t.payload, length: payloadLength };
  }

  /** The connection a segment on `tuple` would belong to now. */
  connOf(tuple: string): string {
    return this.book(tuple).conn;
  }
}

function newIncarnation(b: TupleBook, tuple: string): void {
  b.incarnation++;
  b.conn = `${tuple}#${b.incarnation}`;
  b.localIsn = null;
  b.peerIsn = null;
  b.localTs = null;
  b.peerTs = null;
}

function relOption(o: TcpOption, b: TupleBook): TcpOption {
  if (o.kind === 'sack' && b.peerIsn !== null) {
    const isn = b.peerIsn;
    return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [(l - isn) >>> 0, (r - isn) >>> 0]) };
  }
  if (o.kind === 'timestamps') {
    return { kind: 'timestamps', tsVal: b.localTs === null ? o.tsVal : (o.tsVal - b.localTs) >>> 0, tsEcr: b.peerTs === null || o.tsEcr === 0 ? o.tsEcr : (o.tsEcr - b.peerTs) >>> 0 };
  }
  return o;
}

/** An option as compared: as a script writes it, with TSval left out (see the header). */
function optionFace(o: TcpOption): string {
  return o.kind === 'timestamps' ? `TS ecr ${o.tsEcr}` : optionText(o);
}

/** The fields in which two views differ: flags, seq, ack, win, options, data. */
export function differences(e: SegmentView, a: SegmentView): string[] {
  const out: string[] = [];
  if (e.rel.flags !== a.rel.flags) out.push('flags');
  if (e.rel.seq !== a.rel.seq) out.push('seq');
  if ((e.rel.flags & TcpFlags.ACK) !== 0 && e.rel.ack !== a.rel.ack) out.push('ack');
  if (e.rel.window !== a.rel.window) out.push('win');
  if (e.options !== a.options) out.push('options');
  if (e.length !== a.length || !samePrefix(e.payload, a.payload)) out.push('data');
  return out;
}

/** The bytes both have are equal (a capture may hold only the first bytes of a payload). */
function samePrefix(x: Uint8Array, y: Uint8Array): boolean {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** `> P. 1:18(17) ack 27 win 64 <nop,nop,TS val 302 ecr 302>`: the segment as the host sent it, relative. */
export function viewText(v: SegmentView): string {
  // segmentText prints the payload length it is given; a cut payload still shows its full length.
  const rel = v.length === v.rel.payload.length ? v.rel : { ...v.rel, payload: new Uint8Array(v.length) };
  return `> ${segmentText(rel)}`;
}

export type Pairing<E, A> =
  | { kind: 'match'; expected: E; actual: A }
  | { kind: 'differs'; expected: E; actual: A; fields: string[] }
  | { kind: 'missing'; expected: E }
  | { kind: 'extra'; actual: A };

/** How far ahead pairing looks for the segment that puts the two lists back in step. */
const RESYNC = 6;

/**
 * Pairs two lists of one 4-tuple in order (see the header). Where the heads differ, the nearest segment
 * ahead on either side that equals the other head puts them back in step (what lies between is extra
 * or missing); failing that, one that has its shape (flags, seq and length: a segment that differs only
 * in its window or options); failing that, the heads are one segment that differs.
 */
export function pair<E extends { view: SegmentView }, A extends { view: SegmentView }>(exp: readonly E[], act: readonly A[]): Pairing<E, A>[] {
  const out: Pairing<E, A>[] = [];
  const same = (e: SegmentView, a: SegmentView): boolean => differences(e, a).length === 0;
  const shape = (e: SegmentView, a: SegmentView): boolean => e.rel.flags === a.rel.flags && e.rel.seq === a.rel.seq && e.length === a.length;
  let i = 0;
  let j = 0;
  while (i < exp.length || j < act.length) {
    const e = exp[i];
    const a = act[j];
    if (e === undefined || a === undefined) {
      if (e !== undefined) out.push({ kind: 'missing', expected: e });
      else out.push({ kind: 'extra', actual: a as A });
      if (e !== undefined) i++;
      else j++;
      continue;
    }
    if (same(e.view, a.view)) {
      out.push({ kind: 'match', expected: e, actual: a });
      i++;
      j++;
      continue;
    }
    const skip = resync(exp, act, i, j, same) ?? (shape(e.view, a.view) ? null : resync(exp, act, i, j, shape));
    if (skip === null) {
      out.push({ kind: 'differs', expected: e, actual: a, fields: differences(e.view, a.view) });
      i++;
      j++;
    } else if (skip.side === 'actual') {
      for (let k = 0; k < skip.by; k++) out.push({ kind: 'extra', actual: act[j + k] as A });
      j += skip.by;
    } else {
      for (let k = 0; k < skip.by; k++) out.push({ kind: 'missing', expected: exp[i + k] as E });
      i += skip.by;
    }
  }
  return out;
}

/** The fewest segments to skip on one side for the heads to `fit`, within RESYNC; null if none. */
function resync<E extends { view: SegmentView }, A extends { view: SegmentView }>(
  exp: readonly E[],
  act: readonly A[],
  i: number,
  j: number,
  fit: (e: SegmentView, a: SegmentView) => boolean,
): { side: 'actual' | 'expected'; by: number } | null {
  const e = exp[i] as E;
  const a = act[j] as A;
  for (let d = 1; d <= RESYNC; d++) {
    const laterA = act[j + d];
    if (laterA !== undefined && fit(e.view, laterA.view)) return { side: 'actual', by: d };
    const laterE = exp[i + d];
    if (laterE !== undefined && fit(laterE.view, a.view)) return { side: 'expected', by: d };
  }
  return null;
}
