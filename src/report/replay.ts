/**
 * replay() with Zeek's conn_state and history filled in (replay/ cannot import report/, so the view is
 * plugged in here): what a library user wants from `synack replay` without wiring the view by hand.
 */
import type { CaptureReader } from '../capture/index.js';
import { replay } from '../replay/index.js';
import type { ConnViewFactory, ReplayOptions, ReplayResult } from '../replay/index.js';
import { ZeekConn } from './zeek.js';

/** The Zeek view for a connection, with the ports Zeek's role guess needs. */
export const zeekView: ConnViewFactory = (i) => new ZeekConn({ clientPort: i.clientPort, serverPort: i.serverPort });

export function replayCapture(source: string | CaptureReader, options: ReplayOptions = {}): ReplayResult {
  return replay(source, { connView: zeekView, ...options });
}
