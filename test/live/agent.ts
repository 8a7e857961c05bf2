/**
 * The child side of test/live: runs inside a network namespace (`ip netns exec NS node agent.js`,
 * transpiled by build.ts) and drives src/capture/live.ts on the parent's orders over the IPC channel.
 * Frames are reported as hex with their time; everything the tests assert is decided in the parent.
 *
 * Orders (each carries an `id`, answered by `{ id, ok, ... }`):
 *   open {name, iface, options, probeReuse?, closeAfter?}   send {name, hex}   close {name, twice?}
 *   stats {name}   raw-reopen {name, iface}   raw-count {name}   gc   release
 * `release` answers, then drops the IPC channel: from then on only open captures keep the process alive.
 */
import { createRequire } from 'node:module';
import { copyFrame, isLiveError, openLive } from '../../src/capture/live.js';
import type { LiveCapture, LiveFrame, LiveOptions } from '../../src/capture/live.js';
import { fromHex, hex } from '../../src/wire/bytes.js';

export type Order =
  | { id: number; op: 'open'; name: string; iface: string; options: LiveOptions; probeReuse?: boolean; closeAfter?: number }
  | { id: number; op: 'send'; name: string; hex: string }
  | { id: number; op: 'close'; name: string; twice?: boolean }
  | { id: number; op: 'stats'; name: string }
  | { id: number; op: 'raw-reopen'; name: string; iface: string }
  | { id: number; op: 'raw-count'; name: string }
  | { id: number; op: 'gc' }
  | { id: number; op: 'release' };

export interface FrameEvent {
  ev: 'frame';
  name: string;
  index: number;
  hex: string;
  timeUs: number;
  tsSec: number;
  tsNsec: number;
  capLen: number;
  origLen: number;
  linkType: number;
  truncated: boolean;
  /** With probeReuse: the previous frame as kept without copying, and as kept by copyFrame, read now. */
  prev?: { viewHex: string; copyHex: string; sameObject: boolean };
}

export interface Reply {
  id: number;
  ok: boolean;
  [k: string]: unknown;
}

interface RawCap {
  open(device: string, filter: string, bufSize: number, buffer: Uint8Array): string;
  close(): boolean;
  on(event: 'packet', listener: () => void): unknown;
}

const captures = new Map<string, LiveCapture>();
const raw = new Map<string, { cap: RawCap; count: number }>();

function post(m: Reply | FrameEvent): void {
  if (process.send !== undefined && process.connected) process.send(m);
}

function open(o: Extract<Order, { op: 'open' }>): Reply {
  const live = openLive(o.iface, o.options);
  if (isLiveError(live)) return { id: o.id, ok: false, error: live };
  captures.set(o.name, live);
  let prevView: Uint8Array | null = null;
  let prevCopy: LiveFrame | null = null;
  let prevObject: LiveFrame | null = null;
  live.onFrame((f, timeUs) => {
    const view = f.bytes.u8.subarray(f.offset, f.offset + f.capLen);
    const ev: FrameEvent = {
      ev: 'frame',
      name: o.name,
      index: f.index,
      hex: hex(view),
      timeUs,
      tsSec: f.tsSec,
      tsNsec: f.tsNsec,
      capLen: f.capLen,
      origLen: f.origLen,
      linkType: f.linkType,
      truncated: f.truncated,
    };
    if (o.probeReuse === true) {
      if (prevView !== null && prevCopy !== null) {
        ev.prev = {
          viewHex: hex(prevView),
          copyHex: hex(prevCopy.bytes.u8.subarray(prevCopy.offset, prevCopy.offset + prevCopy.capLen)),
          sameObject: prevObject === f,
        };
      }
      // Deliberately NOT copied: this is the mistake copyFrame exists for.
      prevView = view;
      prevCopy = copyFrame(f);
      prevObject = f;
    }
    post(ev);
    if (o.closeAfter !== undefined && f.index >= o.closeAfter) live.close();
  });
  return { id: o.id, ok: true, linkType: live.linkType, filter: live.filter, mtu: live.mtu, mac: live.mac };
}

function handle(o: Order): Reply {
  switch (o.op) {
    case 'open':
      return open(o);
    case 'send': {
      const live = captures.get(o.name);
      if (live === undefined) return { id: o.id, ok: false, error: `no capture ${o.name}` };
      const err = live.send(fromHex(o.hex));
      return err === undefined ? { id: o.id, ok: true } : { id: o.id, ok: false, error: err };
    }
    case 'close': {
      const live = captures.get(o.name);
      if (live === undefined) return { id: o.id, ok: false, error: `no capture ${o.name}` };
      live.close();
      if (o.twice === true) live.close();
      return { id: o.id, ok: true, closed: live.closed, stats: live.stats() };
    }
    case 'stats': {
      const live = captures.get(o.name);
      if (live === undefined) return { id: o.id, ok: false, error: `no capture ${o.name}` };
      return { id: o.id, ok: true, closed: live.closed, stats: live.stats() };
    }
    case 'raw-reopen': {
      // cap itself, without live.ts: open, close, open the SAME object again, and count what it delivers.
      const { Cap } = createRequire(import.meta.url)('cap') as { Cap: new () => RawCap };
      const cap = new Cap();
      const entry = { cap, count: 0 };
      cap.on('packet', () => {
        entry.count++;
      });
      const buf = new Uint8Array(65535);
      cap.open(o.iface, '', 1 << 20, buf);
      cap.close();
      cap.open(o.iface, '', 1 << 20, buf);
      raw.set(o.name, entry);
      return { id: o.id, ok: true };
    }
    case 'raw-count': {
      const entry = raw.get(o.name);
      if (entry === undefined) return { id: o.id, ok: false, error: `no raw capture ${o.name}` };
      entry.cap.close();
      return { id: o.id, ok: true, count: entry.count };
    }
    case 'gc': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) return { id: o.id, ok: false, error: 'start node with --expose-gc' };
      for (let i = 0; i < 3; i++) gc();
      return { id: o.id, ok: true };
    }
    case 'release':
      return { id: o.id, ok: true };
  }
}

process.on('message', (m: Order) => {
  const reply = handle(m);
  post(reply);
  if (m.op === 'release') process.disconnect();
});
post({ id: 0, ok: true, ready: true });
