/**
 * The trace: everything a Host decides, in order (DESIGN.md decision 7). Reports and test matchers are
 * views of it; nothing in the stack prints. With tracing off a Host keeps only counters.
 */
import type { TcpState } from '../tcp/state.js';
import type { DemuxAction, DemuxStep } from '../socket/table.js';

/** One segment as the trace shows it: enough to read a ladder diagram or compare with a capture. */
export interface SegmentNote {
  src: string;
  dst: string;
  flags: string;
  seq: number;
  ack: number;
  window: number;
  length: number;
  options: string;
}

export type TraceEvent =
  | { type: 'frame-in'; time: number; frame: number; length: number; segment: SegmentNote | null }
  | {
      type: 'demux';
      time: number;
      frame: number;
      step: DemuxStep;
      /** Socket id (stable; descriptors are reused) and descriptor of the socket that took the segment. */
      socket: number | null;
      fd: number | null;
      listenerFd: number | null;
      action: DemuxAction;
      state: TcpState | null;
      drop: string | null;
    }
  | { type: 'state'; time: number; frame: number | null; socket: number; fd: number | null; from: TcpState; to: TcpState; cause: 'segment' | 'call' | 'timer' }
  | { type: 'accept'; time: number; socket: number; listenerFd: number | null; fd: number }
  | { type: 'close'; time: number; socket: number; fd: number }
  | { type: 'frame-out'; time: number; out: number; length: number; segment: SegmentNote | null; kind: 'tcp' | 'arp' | 'ndp' }
  | { type: 'drop'; time: number; frame: number | null; socket: number | null; reason: string };

/** What a Host counts whether or not it traces. */
export interface HostCounters {
  framesIn: number;
  framesOut: number;
  tcpIn: number;
  tcpOut: number;
  drops: number;
  resets: number;
  demux: Record<DemuxStep, number>;
}

export function newCounters(): HostCounters {
  return {
    framesIn: 0,
    framesOut: 0,
    tcpIn: 0,
    tcpOut: 0,
    drops: 0,
    resets: 0,
    demux: { established: 0, 'syn-received': 0, 'time-wait': 0, 'listener-exact': 0, 'listener-any': 0, none: 0 },
  };
}
