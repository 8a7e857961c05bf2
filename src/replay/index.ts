/**
 * replay/: drive host models from a capture. Observe mode (`replay`) is here; emulate mode (`--host`)
 * will join it. The connection views (Zeek conn_state/history, ladder diagrams) live in report/ and are
 * plugged in through `connView`, since layers only import downwards.
 */
export { Observer, replay, REPLAY_DEFAULTS, splitEndpoint } from './observe.js';
export type { ObserveSource } from './observe.js';
export { inferListeners } from './listeners.js';
export type { InferredListener } from './listeners.js';
export { Host, HostRegistry, HOST_DEFAULTS } from './hosts.js';
export type { HostOptions, HostTable, Listener, SocketRow } from './hosts.js';
export type {
  ConnectionRecord,
  ConnView,
  ConnViewFactory,
  ConnViewInit,
  DemuxRecord,
  FrameCounts,
  ObserveAction,
  ReplayOptions,
  ReplayResult,
  ReplaySegment,
  ReplayStateNote,
} from './types.js';
export { MAX_WORKERS, replayParallel } from './parallel.js';
export type { ConnViewModule, ParallelReplayOptions, ParallelReplayResult } from './parallel.js';
export { tupleHash } from './shard.js';
