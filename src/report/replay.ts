/**
 * replay() with Zeek's conn_state and history filled in (replay/ cannot import report/, so the view is
 * plugged in here): what a library user wants from `synack replay` without wiring the view by hand.
 */
import type { CaptureReader } from '../capture/index.js';
import { replay, replayParallel } from '../replay/index.js';
import type { ConnViewFactory, ConnViewModule, ParallelReplayOptions, ParallelReplayResult, ReplayOptions, ReplayResult } from '../replay/index.js';
import { ZeekConn } from './zeek.js';

/** The Zeek view for a connection, with the ports Zeek's role guess needs. */
export const zeekView: ConnViewFactory = (i) => new ZeekConn({ clientPort: i.clientPort, serverPort: i.serverPort });

export function replayCapture(source: string | CaptureReader, options: ReplayOptions = {}): ReplayResult {
  return replay(source, { connView: zeekView, ...options });
}

/** The Zeek view as worker threads load it (replayParallel names views by module and export). */
export const ZEEK_VIEW_MODULE: ConnViewModule = { module: new URL('./replay.js', import.meta.url).href, export: 'zeekView' };

/** replayParallel() with Zeek's conn_state and history: the same result as replayCapture(), over `workers` threads. */
export function replayCaptureParallel(path: string, options: Omit<ParallelReplayOptions, 'connView'>): Promise<ParallelReplayResult> {
  return replayParallel(path, { connView: ZEEK_VIEW_MODULE, ...options });
}
