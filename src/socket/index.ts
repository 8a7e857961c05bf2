/**
 * socket/: the socket table's data structures - descriptors, the 4-tuple index, listeners, ports,
 * SYN and accept queues - and the errno convention the BSD-like calls use. Generic over the
 * connection type, so nothing here depends on tcp/.
 */
export { ERRNO, ErrnoError, errnoName, errnoNumber, isErrno, orThrow } from './errno.js';
export type { Errno, Result } from './errno.js';
export { DEFAULT_FD_LIMIT, FIRST_FD, FdTable } from './fd-table.js';
export type { FdTableOptions } from './fd-table.js';
export { TupleIndex, vlanKeyOf } from './tuple-index.js';
export type { TupleIndexOptions, TupleRecord } from './tuple-index.js';
export { ListenerIndex } from './listener-index.js';
export type { ListenerKey, ListenerStep } from './listener-index.js';
export { addressesOverlap, EPHEMERAL_RANGE, PortBinding, PortTable, TABLE_PERTURB_ORDER } from './ports.js';
export type { BindRequest, ConnectRequest, ConnectResult, PortState, PortTableOptions } from './ports.js';
export {
  ackVerdict,
  acceptQueueFull,
  clampBacklog,
  decideSyn,
  LINUX_LISTEN_DEFAULTS,
  ListenQueues,
  SOMAXCONN,
  synQueueFull,
  synVerdict,
  TCP_MAX_SYN_BACKLOG,
} from './queues.js';
export type { AckVerdict, ListenSettings, SynCookieMode, SynDecision, SynReason, SynState, SynVerdict } from './queues.js';
export { parseIp, ipKeyText } from './ip.js';
export type { IpKey } from './ip.js';
export { Socket, defaultSocketOptions } from './socket.js';
export type { Domain, LingerOption, SocketOptions, SocketRole } from './socket.js';
export { SocketTable } from './table.js';
export type { DemuxAction, DemuxStep, DemuxVerdict, Readiness, SockAddr, SocketEvent, SocketTableInit, SockOpt, SockOptValue } from './table.js';
