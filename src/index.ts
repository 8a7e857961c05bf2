/** synack: the package root re-exports every layer's public face. */
export * from './wire/index.js';
export * from './capture/index.js';
export * from './report/index.js';
export * as script from './script/index.js';
export * as replay from './replay/index.js';
