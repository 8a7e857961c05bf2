/** synack/stack: the Host (addresses, MAC, ARP/NDP, socket table, trace). */
export { Host } from './host.js';
export type { HostOptions } from './host.js';
export { NeighborTable } from './neighbors.js';
export { newCounters } from './trace.js';
export type { HostCounters, SegmentNote, TraceEvent } from './trace.js';
