/**
 * replay/: drive host models from a capture. Observe mode is `replay` (every host a passive model);
 * emulate mode is `emulate` (synack's own stack in one host's place, its segments the expectations,
 * emulate.ts and the files it names). The connection views (Zeek conn_state/history, ladder diagrams) live in report/ and are
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
  ObservedFrame,
  ReplayOptions,
  ReplayResult,
  ReplaySegment,
  ReplayStateNote,
} from './types.js';
export { emulate, judge } from './emulate.js';
export type { EmulateConnection, EmulateDiff, EmulateOptions, EmulateResult } from './emulate.js';
export { emulateHost, EMULATION_BASE_US } from './emulator.js';
export type { ActualSegment, AppAction, AppContext, EmulationApp, EmulationInput, EmulationRun, ExpectedSegment, TimedAction } from './emulator.js';
export { inferApp, DEFAULT_BACKLOG } from './infer-app.js';
export type { AppPlan, CallPlan, EndCall, ListenPlan } from './infer-app.js';
export { appFromPlan } from './app-runtime.js';
export { hostSegments, hostTuple } from './segments.js';
export type { CapturedSegment, HostSegments } from './segments.js';
export { planTranslation, Translator } from './translate.js';
export type { PeerSegmentPlan } from './translate.js';
export { SideBook, differences, pair, viewText } from './compare.js';
export type { Pairing, SegmentView } from './compare.js';
export { receiveOrder } from './receive-order.js';
export type { ReceiveOrder } from './receive-order.js';
export { MAX_WORKERS, replayParallel } from './parallel.js';
export type { ConnViewModule, ParallelReplayOptions, ParallelReplayResult } from './parallel.js';
export { tupleHash } from './shard.js';
