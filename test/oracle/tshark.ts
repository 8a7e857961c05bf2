/**
 * tshark as the oracle: runs `tshark -T fields` once per capture and hands back one row per TCP frame.
 * Default preferences (IP reassembly on: a fragmented segment shows on its last fragment), the same
 * choice as shared/pcaps/truth/make-truth.sh. Results are cached per file for the test run.
 */
import { execFileSync } from 'node:child_process';

export const TSHARK_TCP_FIELDS = [
  'frame.number',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.window_size_value',
  'tcp.len',
  'tcp.option_kind',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'tcp.options.sack_perm',
  'tcp.options.timestamp.tsval',
  'tcp.options.timestamp.tsecr',
  'tcp.options.sack_le',
  'tcp.options.sack_re',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'vlan.id',
  'frame.interface_id',
] as const;

export type TsharkField = (typeof TSHARK_TCP_FIELDS)[number];
export type TsharkRow = Record<TsharkField, string>;

export function haveTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const cache = new Map<string, Map<number, TsharkRow>>();

/** TCP frames of `file` as tshark dissects them, keyed by frame number. */
export function tsharkTcpFrames(file: string): Map<number, TsharkRow> {
  const hit = cache.get(file);
  if (hit) return hit;
  // Absolute sequence numbers: the SACK edges are otherwise printed relative to the ISN (seq/ack are read
  // from the *_raw fields either way).
  const args = ['-n', '-o', 'tcp.relative_sequence_numbers:FALSE', '-r', file, '-Y', 'tcp && !icmp && !icmpv6'];
  args.push('-T', 'fields', '-E', 'header=n', '-E', 'occurrence=a', '-E', 'aggregator=,');
  for (const f of TSHARK_TCP_FIELDS) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const rows = new Map<number, TsharkRow>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t');
    const row = {} as TsharkRow;
    TSHARK_TCP_FIELDS.forEach((f, i) => (row[f] = cols[i] ?? ''));
    rows.set(Number(row['frame.number']), row);
  }
  cache.set(file, rows);
  return rows;
}

/** The innermost of an aggregated field (tunnels repeat fields; the last one is the TCP's own). */
export function innermost(v: string): string {
  const parts = v.split(',');
  return parts[parts.length - 1] ?? '';
}
