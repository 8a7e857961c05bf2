/**
 * What the connection views (Zeek conn_state/history, ladder diagrams) are fed: one record per TCP
 * segment of a connection, the state changes the replay saw at either end, and a label naming the two
 * endpoints. The replay engine produces these; the views only read them.
 */
import type { ReplaySegment } from '../replay/types.js';

/**
 * One segment of a connection as a view reads it: replay/'s ReplaySegment (the replay engine produces it;
 * defined there because replay/ sits below report/). ONE object may be reused for every segment.
 */
export type ConnSegment = ReplaySegment;

/** A state change at one end, with RFC 9293 state names, e.g. 'LISTEN' -> 'SYN-RECEIVED'. */
export interface ConnStateNote {
  frame: number;
  timeUs: number;
  side: 'client' | 'server';
  from: string;
  to: string;
}

/** The two endpoints ("ip:port" / "[v6]:port") and, when known, their descriptors. */
export interface ConnLabel {
  client: string;
  server: string;
  clientFd?: number | null;
  serverFd?: number | null;
  listenerFd?: number | null;
}
