/**
 * replay() with Zeek's conn_state and history filled in (replay/ cannot import report/, so the view is
 * plugged in here): what a library user wants from `synack replay` without wiring the view by hand.
 */
import type { CaptureReader } from '../capture/index.js';
import { replay, replayParallel } from '../replay/index.js';
import type { ConnViewFactory, ConnViewModule, ParallelReplayOptions, ParallelReplayResult, ReplayOptions, ReplayResult } from '../replay/index.js';
import { ZeekConn } from './zeek.js';

/** Views the replay is done with, for the next connections (at most this many are kept). */
const POOL: ZeekConn[] = [];
const POOL_MAX = 1 << 16;

/** A ZeekConn made by zeekView: given back to the pool when the replay releases it. */
class PooledZeekConn extends ZeekConn {
  release(): void {
    if (POOL.length < POOL_MAX) POOL.push(this);
  }
}

/**
 * The Zeek view for a connection, with the ports Zeek's role guess needs. Views are reused once the
 * replay releases them (ConnView.release): a million connections make no garbage of their views.
 */
export const zeekView: ConnViewFactory = (i) => {
  const options = { clientPort: i.clientPort, serverPort: i.serverPort };
  const z = POOL.pop();
  if (z === undefined) return new PooledZeekConn(options);
  z.reset(options);
  return z;
};

export function replayCapture(source: string | CaptureReader, options: ReplayOptions = {}): ReplayResult {
  return replay(source, { connView: zeekView, ...options });
}

/** The Zeek view as worker threads load it (replayParallel names views by module and export). */
export const ZEEK_VIEW_MODULE: ConnViewModule = { module: new URL('./replay.js', import.meta.url).href, export: 'zeekView' };

/** replayParallel() with Zeek's conn_state and history: the same result as replayCapture(), over `workers` threads. */
export function replayCaptureParallel(path: string, options: Omit<ParallelReplayOptions, 'connView'>): Promise<ParallelReplayResult> {
  return replayParallel(path, { connView: ZEEK_VIEW_MODULE, ...options });
}
