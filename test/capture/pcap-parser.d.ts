// Types for the parts of pcap-parser 0.2 (plain CommonJS, no types of its own) that the cross-check uses.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';

  export interface PcapParserPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }
  export interface PcapParserPacket {
    header: PcapParserPacketHeader;
    data: Buffer;
  }
  export function parse(input: string | Readable): EventEmitter;
}
