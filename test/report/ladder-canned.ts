/**
 * Test-only: one canned connection for the ladder tests — the first web connection of
 * fixtures/web-mail-v4.pcap (client 198.18.0.11:40001, server 198.18.0.1:80) with round ISNs: handshake,
 * a 26-byte request, a 17-byte answer, and a close started by the client; the state changes are the
 * ones RFC 9293 gives each end for those segments.
 */
import type { ConnLabel, ConnSegment, ConnStateNote } from '../../src/report/conn-events.js';

const C = 1_000_000; // client ISN
const S = 3_000_000; // server ISN
const T0 = 1_700_000_000_000_000;

function seg(frame: number, dtUs: number, fromClient: boolean, flags: number, seq: number, ack: number, window: number, payloadLength = 0, options = ''): ConnSegment {
  return { frame, timeUs: T0 + dtUs, fromClient, flags, seq, ack, window, payloadLength, options, badChecksum: false };
}

export const CANNED_LABEL: ConnLabel = { client: '198.18.0.11:40001', server: '198.18.0.1:80', clientFd: 3, serverFd: 5, listenerFd: 3 };

// Flags: FIN 1, SYN 2, PSH 8, ACK 16.
export const CANNED_SEGMENTS: ConnSegment[] = [
  seg(3, 0, true, 0x02, C, 0, 64240, 0, 'mss 1460,sackOK,TS val 2414274930 ecr 0,nop,wscale 10'),
  seg(4, 15, false, 0x12, S, C + 1, 65160, 0, 'mss 1460,sackOK,TS val 2050295301 ecr 2414274930,nop,wscale 10'),
  seg(5, 30, true, 0x10, C + 1, S + 1, 63, 0, 'nop,nop,TS val 2414274930 ecr 2050295301'),
  seg(16, 301_724, true, 0x18, C + 1, S + 1, 63, 26, 'nop,nop,TS val 2414275232 ecr 2050295301'),
  seg(17, 301_769, false, 0x10, S + 1, C + 27, 64, 0, 'nop,nop,TS val 2050295603 ecr 2414275232'),
  seg(18, 301_994, false, 0x18, S + 1, C + 27, 64, 17, 'nop,nop,TS val 2050295603 ecr 2414275232'),
  seg(19, 302_037, true, 0x10, C + 27, S + 18, 63, 0, 'nop,nop,TS val 2414275232 ecr 2050295603'),
  seg(31, 604_250, true, 0x11, C + 27, S + 18, 63, 0, 'nop,nop,TS val 2414275534 ecr 2050295603'),
  seg(32, 604_512, false, 0x11, S + 18, C + 28, 64, 0, 'nop,nop,TS val 2050295905 ecr 2414275534'),
  seg(33, 604_559, true, 0x10, C + 28, S + 19, 63, 0, 'nop,nop,TS val 2414275534 ecr 2050295905'),
];

function note(frame: number, dtUs: number, side: 'client' | 'server', from: string, to: string): ConnStateNote {
  return { frame, timeUs: T0 + dtUs, side, from, to };
}

export const CANNED_STATES: ConnStateNote[] = [
  note(3, 0, 'client', 'CLOSED', 'SYN-SENT'),
  note(3, 0, 'server', 'LISTEN', 'SYN-RECEIVED'),
  note(4, 15, 'client', 'SYN-SENT', 'ESTABLISHED'),
  note(5, 30, 'server', 'SYN-RECEIVED', 'ESTABLISHED'),
  note(31, 604_250, 'client', 'ESTABLISHED', 'FIN-WAIT-1'),
  note(31, 604_250, 'server', 'ESTABLISHED', 'CLOSE-WAIT'),
  note(32, 604_512, 'server', 'CLOSE-WAIT', 'LAST-ACK'),
  note(32, 604_512, 'client', 'FIN-WAIT-1', 'TIME-WAIT'),
  note(33, 604_559, 'server', 'LAST-ACK', 'CLOSED'),
];
