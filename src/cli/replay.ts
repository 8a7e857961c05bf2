/**
 * `synack replay FILE`: observe mode. Every address of the capture is a host model, listeners are
 * inferred from who answered SYNs, and each TCP frame is delivered to its receiver's socket table.
 * Prints the connection table (Zeek conn_state and history, listener and accepted descriptors) and each
 * host's socket table at the end; `--frames` adds every frame's demux verdict; `--json` is one object
 * (DESIGN.md output contract), `--ndjson` streams verdicts and connection records, then a summary.
 * Exit 2 for a damaged file (after everything before the damage) or bad usage, 0 otherwise.
 */
import { replay, splitEndpoint } from '../replay/index.js';
import type { ConnectionRecord, DemuxRecord, HostTable, ReplayOptions, ReplayResult } from '../replay/index.js';
import { zeekView } from '../report/replay.js';
import { DiagramCollector } from '../report/diagram.js';
import { writeFileSync } from 'node:fs';
import { linkTypeName } from '../wire/linktype.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { Output } from './output.js';

export const REPLAY_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', kind: 'flag', help: 'one JSON object: frames, connections, hosts (and demux with --frames)' },
  { name: 'ndjson', kind: 'flag', help: 'one JSON object per line: each verdict (with --frames) and connection as it is final, then the summary' },
  { name: 'frames', kind: 'flag', help: 'every TCP frame with its demux step, socket, descriptor, action and resulting state' },
  { name: 'listen', kind: 'list', valueName: 'ADDR:PORT...', help: 'listeners bound to that address (others bind to ANY); created even if never seen answering' },
  { name: 'at', kind: 'string', valueName: 'FRAME', help: 'show the socket tables as they stand after frame FRAME (default: at the end)' },
  { name: 'diagram', kind: 'string', valueName: 'CONN|all', help: 'a ladder diagram of connection CONN (an id from the table), or of all' },
  { name: 'svg', kind: 'string', valueName: 'FILE', help: 'write the --diagram connection as an SVG ladder to FILE' },
  { name: 'quiet', short: 'q', kind: 'flag', help: 'print only the closing counts (to stderr)' },
];

export const REPLAY_USAGE = `usage: synack replay FILE [--json | --ndjson] [--frames] [--listen ADDR:PORT...] [--at FRAME] [-q]

Replays a pcap or pcapng file in observe mode: every address becomes a host with a socket table,
listeners are inferred from who answered SYNs (they take descriptors 3, 4, ... before the first frame),
an accepted socket takes the lowest free descriptor when its handshake completes, and every TCP frame is
demultiplexed at its receiver (4-tuple, listener on the exact address, listener on ANY, none) and
checked against its sender's state. Connection states are Zeek's conn_state and history.`;

/** Socket rows printed per host, and hosts printed, before "... N more" (--json has them all). */
const MAX_ROWS = 40;
const MAX_HOSTS = 40;

export function runReplay(args: ParsedArgs, out: Output, err: (s: string) => void): number {
  const file = args.positionals[0];
  if (file === undefined || args.positionals.length > 1) throw new UsageError(args.positionals.length > 1 ? `one FILE expected, got ${args.positionals.length}` : 'FILE missing');
  const json = args.flags.has('json');
  const ndjson = args.flags.has('ndjson');
  if (json && ndjson) throw new UsageError('--json and --ndjson: choose one');
  const frames = args.flags.has('frames');
  const quiet = args.flags.has('quiet');
  const listen = args.lists.get('listen') ?? [];
  for (const l of listen) {
    try {
      splitEndpoint(l);
    } catch {
      throw new UsageError(`--listen needs ADDR:PORT (or [V6]:PORT), got ${JSON.stringify(l)}`);
    }
  }

  const atText = args.values.get('at');
  if (atText !== undefined && !/^[1-9]\d*$/.test(atText)) throw new UsageError(`--at needs a frame number, got ${JSON.stringify(atText)}`);
  const diagramText = args.values.get('diagram');
  if (diagramText !== undefined && diagramText !== 'all' && !/^[1-9]\d*$/.test(diagramText)) {
    throw new UsageError(`--diagram needs a connection id or 'all', got ${JSON.stringify(diagramText)}`);
  }
  const svgFile = args.values.get('svg');
  if (svgFile !== undefined && (diagramText === undefined || diagramText === 'all')) throw new UsageError('--svg FILE needs --diagram CONN (one connection)');
  const diagrams = diagramText === undefined ? null : new DiagramCollector(diagramText === 'all' ? 'all' : new Set([Number(diagramText)]));
  const options: ReplayOptions = {
    listen,
    hostTables: !quiet,
    connView: diagrams?.factory ?? zeekView,
  };
  if (atText !== undefined) options.tablesAt = Number(atText);
  let connections = 0;
  if (quiet && !json) {
    // Counted, not kept: memory stays flat on any capture.
    options.connections = false;
    options.onConnection = () => void connections++;
  }
  if (ndjson) {
    // Streamed: nothing is kept, so memory stays flat on any capture.
    options.connections = false;
    options.onConnection = (c) => {
      connections++;
      out.line(JSON.stringify({ type: 'connection', ...c }));
    };
    if (frames) options.onVerdict = (v) => out.line(JSON.stringify({ type: 'demux', ...v }));
  } else if (json) {
    options.frames = frames;
  } else if (frames && !quiet) {
    out.line(FRAME_HEADER);
    options.onVerdict = (v) => out.line(formatVerdict(v));
  }

  let result: ReplayResult;
  try {
    result = replay(file, options);
  } finally {
    out.flush();
  }

  if (ndjson) {
    const { connections: _c, demux: _d, ...summary } = result;
    out.line(JSON.stringify({ type: 'summary', ...summary }));
  } else if (json) {
    out.line(JSON.stringify(result));
  } else if (!quiet) {
    if (frames) out.line('');
    for (const line of formatResult(result)) out.line(line);
  }
  if (diagrams !== null && !json && !ndjson) {
    const shown = result.connections.filter((c) => diagrams.has(c.id));
    if (shown.length === 0) err(`synack: --diagram ${diagramText}: no such connection`);
    for (const c of shown) {
      out.line('');
      out.line(`connection ${c.id}:`);
      for (const line of diagrams.text(c).split('\n')) out.line(line);
      if (svgFile !== undefined) writeFileSync(svgFile, diagrams.svg(c));
    }
  }
  out.flush();
  const f = result.frames;
  const n = Math.max(connections, result.connections.length);
  const summary = `${f.total} frames, ${f.tcp} TCP, ${n} connections, ${f.malformed} malformed, ${f.badChecksum} bad TCP checksums, ${f.anomalies} anomalies`;
  if (result.error !== null) {
    err(`synack: ${result.error.message}`);
    err(`synack: ${summary} replayed before the error`);
    return 2;
  }
  if (quiet) err(summary);
  return 0;
}

// -----------------------------------------------------------------------------------------------------
// Text output

const FRAME_HEADER = `${'frame'.padStart(6)}  ${'flags'.padEnd(5)} ${'receiving socket (local <- remote)'.padEnd(44)} ${'step'.padEnd(14)} ${'fd'.padStart(3)} ${'lfd'.padStart(3)} ${'conn'.padStart(4)}  ${'action'.padEnd(16)} state (sender)`;

/** One frame: `     3  S     198.18.0.1:80 <- 198.18.0.11:40001  listener-any  -   3    1  cloned  SYN-RECEIVED (SYN-SENT)`. */
export function formatVerdict(v: DemuxRecord): string {
  let s = `${String(v.frame).padStart(6)}  ${v.flags.padEnd(5)} ${v.socket.padEnd(44)} ${v.step.padEnd(14)} ${dash(v.fd).padStart(3)} ${dash(v.listenerFd).padStart(3)} ${String(v.connection).padStart(4)}  ${v.action.padEnd(16)} ${v.state} (${v.sender})`;
  if (v.midstream) s += ' midstream';
  if (v.late) s += ' late';
  if (v.badChecksum) s += ' bad-checksum';
  if (v.anomaly !== undefined) s += ` ANOMALY ${v.anomaly}`;
  return s;
}

function dash(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : String(n);
}

/** Left-aligned columns (numbers right-aligned) with two spaces between them. */
function columns(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
  // A loop, not Math.max(...): a million rows are too many arguments for one call.
  const w = header.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < w.length; i++) w[i] = Math.max(w[i] as number, (r[i] as string).length);
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(w[i] as number) : c.padEnd(w[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function formatResult(r: ReplayResult): string[] {
  const f = r.frames;
  const links = r.linkTypes.map((t) => `${t} ${linkTypeName(t)}`).join(', ');
  const extra = [
    f.malformed > 0 ? `${f.malformed} malformed` : '',
    f.badChecksum > 0 ? `${f.badChecksum} bad TCP checksums` : '',
    f.truncated > 0 ? `${f.truncated} cut by the snap length` : '',
    f.fragments > 0 ? `${f.fragments} IP fragments` : '',
    f.anomalies > 0 ? `${f.anomalies} anomalies` : '',
  ].filter((s) => s !== '');
  const lines: string[] = [
    `${r.file}: ${r.format}, link type ${links}; ${f.total} frames, ${f.tcp} TCP${extra.length > 0 ? ` (${extra.join(', ')})` : ''}; ${r.connections.length} connections`,
    '',
  ];
  for (const line of connectionTable(r.connections)) lines.push(line);
  const hosts = r.hosts;
  const shown = hosts.slice(0, MAX_HOSTS);
  lines.push('', r.hostsAt === null ? 'sockets at the end of the capture:' : `sockets after frame ${r.hostsAt}:`);
  for (const h of shown) {
    lines.push('');
    lines.push(...hostTable(h));
  }
  if (hosts.length > shown.length) lines.push('', `... ${hosts.length - shown.length} more hosts with sockets (--json lists them all)`);
  return lines;
}

function connectionTable(conns: readonly ConnectionRecord[]): string[] {
  if (conns.length === 0) return ['no TCP connections'];
  const rows = conns.map((c) => [
    String(c.id),
    c.client,
    c.server,
    c.state ?? '-',
    c.history ?? '-',
    dash(c.listenerFd),
    dash(c.serverFd),
    String(c.frames),
    c.duration.toFixed(3),
    notes(c),
  ]);
  return columns(['id', 'client', 'server', 'state', 'history', 'listener fd', 'accepted fd', 'frames', 'duration', ''], rows, new Set([0, 5, 6, 7, 8]));
}

function notes(c: ConnectionRecord): string {
  const n: string[] = [];
  if (c.midstream) n.push('midstream');
  if (c.vlan !== undefined) n.push(`vlan ${c.vlan.join('.')}`);
  if (c.vlanReply !== undefined) n.push(`reply vlan ${c.vlanReply.length > 0 ? c.vlanReply.join('.') : 'none'}`);
  if (c.interface !== undefined) n.push(`if ${c.interface}`);
  if (c.anomalyCount > 0) n.push(`${c.anomalyCount} anomal${c.anomalyCount === 1 ? 'y' : 'ies'} (${c.anomalies.join(', ')})`);
  return n.join('; ');
}

function hostTable(h: HostTable): string[] {
  const rows = h.sockets.slice(0, MAX_ROWS).map((s) => [dash(s.fd), s.state, s.local, s.remote, s.queue, s.connection === null ? '' : `conn ${s.connection}`]);
  const lines = [`host ${h.host}`, ...columns(['fd', 'state', 'local', 'remote', 'queue', ''], rows, new Set([0])).map((l) => `  ${l}`)];
  if (h.sockets.length > MAX_ROWS) lines.push(`  ... ${h.sockets.length - MAX_ROWS} more sockets`);
  return lines;
}
