/** synack/report: views of a trace — frame summaries, Zeek conn_state/history, ladder diagrams. */
export * from './frames.js';
export * from './conn-events.js';
export * from './zeek.js';
export * from './ladder.js';
export * from './ladder-svg.js';
export * from './replay.js';
export * from './diagram.js';
export * from './verdict-file.js';
export * from './emulate.js';
