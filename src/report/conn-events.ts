/**
 * What the connection views (Zeek conn_state/history, ladder diagrams) are fed: one record per TCP
 * segment of a connection, the state changes the replay saw at either end, and a label naming the two
 * endpoints. The replay engine produces these; the views only read them.
 */

/** One captured TCP segment of a connection. */
export interface ConnSegment {
  /** Capture frame number (1-based, as Wireshark counts). */
  frame: number;
  /** Capture time, µs since the epoch. */
  timeUs: number;
  /** Direction: client = the side that sent the first SYN (or, without a SYN, the first sender). */
  fromClient: boolean;
  /** TcpFlags bits from src/wire/tcp.ts (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128, AE 256). */
  flags: number;
  /** Raw sequence number, acknowledgment number and window field (unscaled). */
  seq: number;
  ack: number;
  window: number;
  /** Payload bytes the segment carries (from the IP length). */
  payloadLength: number;
  /** tcpdump-style text, e.g. "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7" ('' when none). */
  options: string;
  /** The TCP checksum did not verify. */
  badChecksum: boolean;
}

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
