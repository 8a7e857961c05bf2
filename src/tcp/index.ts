/**
 * tcp/: one TCP connection, pure (no clock, no I/O). See tcb.ts for how a connection is driven.
 */
export type { Clock, Endpoint, Env, IsnSource, Random } from './env.js';
export { rfc6528Isn, sipHash24, clockTicks, type Rfc6528Options } from './isn.js';
export { TCP_STATES, isSynchronized, type StateCause, type TcpState } from './state.js';
export {
  PERSONALITIES,
  freebsd,
  linux,
  linux311,
  offeredWindowScale,
  synWindow,
  type DelayedAck,
  type Personality,
  type Validation,
} from './personality.js';
export {
  Tcb,
  defaultConfig,
  segLen,
  type DropReason,
  type TcbConfig,
  type TcbHooks,
  type TcbInit,
  type TcpError,
  type TcpEvent,
} from './tcb.js';
export { segmentArrives, classifyForListener, type ArriveResult, type ListenAction } from './segment-arrives.js';
export { pollAt, poll } from './timers.js';
export {
  abort,
  close,
  connect,
  listen,
  receive,
  send,
  shutdownWrite,
  status,
  type TcbStatus,
} from './user-calls.js';
export { acceptSyn, listenerSegment, synCookieReply, type AcceptOptions, type ListenerVerdict } from './listen.js';
export { resetFor } from './rst.js';
export {
  COOKIE_MSS_IPV4,
  COOKIE_MSS_IPV6,
  MAX_COOKIE_AGE,
  cookieTime,
  cookieTsOptions,
  cookieTsVal,
  decodeCookie,
  encodeCookie,
  keyFrom,
  mssIndex,
  type CookieKey,
} from './syncookies.js';
export { seededRandom } from './random.js';
