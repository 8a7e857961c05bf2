/** synack/testing: deterministic clocks and randomness, a virtual network of Hosts, vitest matchers. */
export { ManualClock } from './clock.js';
export { seededRandom } from './random.js';
export { fixedIsn } from './isn.js';
export { Network } from './network.js';
export type { AttachOptions, NetworkOptions } from './network.js';
export { installMatchers, synackMatchers, toHaveDemuxed, toHaveSent, toHaveState } from './matchers.js';
export type { DemuxExpectation, SentExpectation } from './matchers.js';
export { opt, parseFlags, splitEndpoint, tcpFrame, tcpSegment } from './frames.js';
export type { TcpFrameSpec } from './frames.js';
