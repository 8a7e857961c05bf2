/**
 * Everything a TCP connection needs from outside, injected (DESIGN.md decision 2): time, random numbers
 * and initial sequence numbers. Nothing in tcp/ reads a clock or draws a random number by itself, so the
 * same inputs give the same segments, byte for byte.
 *
 * Time is an integer number of MICROSECONDS. The connection functions take `nowUs` as an argument; the
 * clock here is for the layers above (the socket table and Host read it once per call and pass it down).
 */

/** One end of a connection. Addresses are text, as in records: "198.18.0.1", "2001:db8::1". */
export interface Endpoint {
  readonly addr: string;
  readonly port: number;
}

export interface Clock {
  /** Microseconds, integer, never decreasing. */
  now(): number;
}

export interface Random {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
}

/** Where initial sequence numbers (RFC 9293 §3.4.1) and timestamp offsets (RFC 7323 §5.4) come from. */
export interface IsnSource {
  /** The ISN for a new connection between `local` and `remote` at `nowUs`. */
  isn(local: Endpoint, remote: Endpoint, nowUs: number): number;
  /**
   * A per-connection offset added to the timestamp clock, as Linux does (tcp_timestamps=1 derives it from
   * a keyed hash of the two addresses) so that TSval does not reveal the host's uptime.
   */
  tsOffset(local: Endpoint, remote: Endpoint): number;
}

export interface Env {
  clock: Clock;
  rand: Random;
  isn: IsnSource;
}
