/**
 * Test-only: the TCP connections of a corpus capture as ConnSegment lists, the way the replay engine
 * will hand them to the report views. Frames are decoded with FrameDecoder (IP fragments reassembled);
 * segments are grouped by 4-tuple + VLAN ids + interface and matched to the tshark stream (truth JSON)
 * whose endpoints and frame range hold them; the client is truth's `client`.
 */
import { join } from 'node:path';
import { openCapture } from '../../src/capture/index.js';
import { tcpChecksumStatus } from '../../src/report/frames.js';
import type { ConnSegment } from '../../src/report/conn-events.js';
import { formatIpv4, formatIpv6 } from '../../src/wire/address.js';
import { FrameDecoder } from '../../src/wire/frame-decoder.js';
import { TcpPacket, formatTcpOptions, parseTcpOptions } from '../../src/wire/tcp.js';
import { CORPUS_DIR, truthOf } from '../corpus.js';

/** The fields of a truth stream the tests read. */
export interface TruthStream {
  stream: number;
  client: string;
  server: string;
  role_basis: string;
  first_frame: number;
  last_frame: number;
  packets: number;
  packets_client_to_server: number;
  packets_server_to_client: number;
  payload_bytes_client_to_server: number;
  payload_bytes_server_to_client: number;
  one_sided: boolean;
  handshake: { syn: boolean; syn_ack: boolean; ack: boolean; complete: boolean; syn_frame: number | null; syn_ack_frame: number | null; ack_frame: number | null };
  client_syn_count: number;
  server_syn_ack_count: number;
  server_syn_count: number;
  client_syn_ack_count: number;
  syn_with_payload: boolean;
  rst: { frame: number; by: 'client' | 'server'; flags: string }[];
  fin_client_frames: number[];
  fin_server_frames: number[];
  bad_tcp_checksum_packets: number;
  truncated_packets: number;
  vlan_tag_sets: string[];
  interfaces: number[];
}

/** One connection: its segments (with how much payload the capture holds) and the truth stream it belongs to. */
export interface CorpusConn {
  file: string;
  /** 4-tuple, VLAN ids and interface, for messages. */
  key: string;
  truth: TruthStream;
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  segments: ConnSegment[];
  /** Payload bytes captured per segment (same order). */
  captured: number[];
  /** The capture cut the segment's TCP header (options): only the fixed 20 bytes are known. */
  headerCut: boolean[];
  /** The IPv4 header checksum is bad. */
  ipBad: boolean[];
}

function endpointText(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

/** Every TCP connection of a corpus capture, in the order their first segments come. */
export function corpusConnections(file: string): CorpusConn[] {
  const truth = truthOf(file);
  const streams = truth['streams'] as TruthStream[];
  const reader = openCapture(join(CORPUS_DIR, file));
  const dec = new FrameDecoder();
  const conns = new Map<string, CorpusConn>();
  const order: CorpusConn[] = [];
  try {
    for (let f = reader.next(); f; f = reader.next()) {
      const timeUs = f.tsSec * 1_000_000 + Math.floor(f.tsNsec / 1000);
      const { info } = dec.decode(f.linkType, f.bytes, f.offset, f.capLen, f.index, timeUs);
      if (!info.tcp || info.bytes === null) continue;
      const b = info.bytes;
      // A header cut inside its options still has its fixed 20 bytes (decode.ts keeps info.tcp for it).
      const headerCut = info.l4Captured < info.tcpHeaderLength;
      const checked = TcpPacket.check(b, info.l4Offset, info.l4Captured, info.l4Length);
      if (typeof checked === 'string' && !headerCut) continue;
      const pkt = typeof checked === 'string' ? TcpPacket.unchecked(b, info.l4Offset, info.l4Captured) : checked;
      const fmt = info.addrLen === 4 ? formatIpv4 : formatIpv6;
      const src = endpointText(fmt(b, info.addrOffset), pkt.srcPort);
      const dst = endpointText(fmt(b, info.addrOffset + info.addrLen), pkt.dstPort);
      const stream = streams.find(
        (s) => ((s.client === src && s.server === dst) || (s.client === dst && s.server === src)) && s.first_frame <= f.index && f.index <= s.last_frame,
      );
      if (stream === undefined) throw new Error(`${file} frame ${f.index}: no truth stream for ${src} > ${dst}`);
      const vlans = Array.from(info.vlanIds.subarray(0, info.vlanCount)).join('.');
      const key = `${stream.client}|${stream.server}|${stream.stream}|vlan ${vlans || '-'}|if ${f.interfaceId}`;
      let conn = conns.get(key);
      if (conn === undefined) {
        conn = {
          file,
          key,
          truth: stream,
          client: stream.client,
          server: stream.server,
          clientPort: portOf(stream.client),
          serverPort: portOf(stream.server),
          segments: [],
          captured: [],
          headerCut: [],
          ipBad: [],
        };
        conns.set(key, conn);
        order.push(conn);
      }
      const opts = headerCut ? 'truncated' : parseTcpOptions(b, pkt.optionsOffset, pkt.optionsLength);
      const payloadLength = info.tcpPayloadLength;
      conn.segments.push({
        frame: f.index,
        timeUs,
        fromClient: src === stream.client,
        flags: pkt.flags,
        seq: pkt.seq,
        ack: pkt.ack,
        window: pkt.window,
        payloadLength,
        options: typeof opts === 'string' ? '' : formatTcpOptions(opts),
        badChecksum: tcpChecksumStatus(info) === 'bad',
      });
      conn.captured.push(Math.max(0, Math.min(payloadLength, info.l4Captured - info.tcpHeaderLength)));
      conn.headerCut.push(headerCut);
      conn.ipBad.push(!info.ipChecksumOk);
    }
    if (reader.error) throw new Error(`${file}: ${reader.error.message}`);
  } finally {
    reader.close();
  }
  return order;
}
