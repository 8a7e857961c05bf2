/** Shared by the replay tests: a replay with Zeek's connection view, as the CLI runs it. */
import { replay } from '../../src/replay/index.js';
import type { ReplayOptions, ReplayResult } from '../../src/replay/index.js';
import type { CaptureReader } from '../../src/capture/index.js';
import { ZeekConn } from '../../src/report/zeek.js';

export function replayZeek(file: string | CaptureReader, options: ReplayOptions = {}): ReplayResult {
  return replay(file, { connView: (i) => new ZeekConn({ clientPort: i.clientPort, serverPort: i.serverPort }), ...options });
}

/** The fields of a tshark truth stream (../shared/pcaps/truth/*.json, make-truth.sh) these tests read. */
export interface TruthStream {
  stream: number;
  client: string;
  server: string;
  role_basis: string;
  first_frame: number;
  last_frame: number;
  packets: number;
  one_sided: boolean;
  handshake: { complete: boolean };
  rst: { frame: number; by: 'client' | 'server' }[];
  fin_client_frames: number[];
  fin_server_frames: number[];
  bad_tcp_checksum_packets: number;
  vlan_tag_sets: string[];
  per_vlan_tag_set: Record<string, { packets: number; syn: number; syn_ack: number; fin: number; rst: number }> | null;
  interfaces: number[];
}
