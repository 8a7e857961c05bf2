/** synack: the package root re-exports every layer's public face. */
export * from './wire/index.js';
export * from './capture/index.js';
export * from './report/index.js';
export * as script from './script/index.js';
export * as replayEngine from './replay/index.js';
/** replay(source, options): observe-mode replay with Zeek's conn_state and history (report/'s replayCapture). */
export { replayCapture as replay } from './report/replay.js';
