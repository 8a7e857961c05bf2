/**
 * Ladder diagrams from a replay: a connection view that wraps Zeek's and also keeps the segments and
 * state changes of the connections asked for, then draws them with ladderText / ladderSvg.
 */
import type { ConnectionRecord, ConnView, ConnViewFactory } from '../replay/index.js';
import type { ConnSegment, ConnStateNote } from './conn-events.js';
import { ladderText } from './ladder.js';
import type { LadderOptions } from './ladder.js';
import { ladderSvg } from './ladder-svg.js';
import { zeekView } from './replay.js';

/** Segments kept per connection: a diagram longer than this is cut (and says so). */
export const DIAGRAM_MAX_SEGMENTS = 200;

interface Kept {
  segments: ConnSegment[];
  notes: ConnStateNote[];
}

export class DiagramCollector {
  private readonly kept = new Map<number, Kept>();

  /** `which`: connection ids to keep, or 'all'. */
  constructor(private readonly which: ReadonlySet<number> | 'all') {}

  /** The view factory to give replay(): Zeek's view, plus the keeping. */
  readonly factory: ConnViewFactory = (init) => {
    const zeek = zeekView(init);
    if (this.which !== 'all' && !this.which.has(init.id)) return zeek;
    const k: Kept = { segments: [], notes: [] };
    this.kept.set(init.id, k);
    const keep = (seg: ConnSegment): void => {
      const last = k.segments[k.segments.length - 1];
      // A bad checksum comes twice (marked, then as `zeek -C` takes it): draw it once, marked.
      if (last !== undefined && last.frame === seg.frame && last.badChecksum && !seg.badChecksum) return;
      if (k.segments.length < DIAGRAM_MAX_SEGMENTS) k.segments.push({ ...seg });
    };
    const view: ConnView = {
      add: (seg, captured) => {
        zeek.add(seg, captured);
        keep(seg);
      },
      addHeaderCut: (seg) => {
        zeek.addHeaderCut(seg);
        keep(seg);
      },
      note: (n) => {
        zeek.note?.(n);
        if (k.notes.length < 4 * DIAGRAM_MAX_SEGMENTS) k.notes.push({ ...n });
      },
      get state() {
        return zeek.state;
      },
      get history() {
        return zeek.history;
      },
    };
    return view;
  };

  has(id: number): boolean {
    return this.kept.has(id);
  }

  /** The text ladder of connection `c`. */
  text(c: ConnectionRecord, opts: LadderOptions = {}): string {
    const k = this.kept.get(c.id) ?? { segments: [], notes: [] };
    return ladderText(labelOf(c), k.segments, k.notes, opts);
  }

  /** The SVG ladder of connection `c`. */
  svg(c: ConnectionRecord, opts: LadderOptions = {}): string {
    const k = this.kept.get(c.id) ?? { segments: [], notes: [] };
    return ladderSvg(labelOf(c), k.segments, k.notes, opts);
  }
}

function labelOf(c: ConnectionRecord): { client: string; server: string; clientFd: number | null; serverFd: number | null; listenerFd: number | null } {
  return { client: c.client, server: c.server, clientFd: c.clientFd, serverFd: c.serverFd, listenerFd: c.listenerFd };
}
