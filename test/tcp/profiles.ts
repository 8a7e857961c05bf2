/**
 * The personalities the TCP unit tests are written against. Their window arithmetic (wscale 7, first ACK
 * "win 502", ...) is for a Linux host with tcp_rmem[2] = 6 MiB, the default before 6.16 and the figure
 * most packetdrill scripts were written on; src/tcp/personality.ts's `linux` is 6.16+ (32 MiB, wscale 10),
 * which personality.test.ts and the kernel-capture tests in test/fixtures-kernel check.
 */
import { linux as linux616, freebsd, PERSONALITIES, type Personality } from '../../src/tcp/personality.js';

export const linux: Personality = { ...linux616, rcvSpaceMax: 6291456 };
export { freebsd, PERSONALITIES, linux616 };
export type { Personality };
