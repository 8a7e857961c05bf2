/**
 * `synack replay FILE`: observe mode. Every address of the capture is a host model, listeners are
 * inferred from who answered SYNs, and each TCP frame is delivered to its receiver's socket table.
 * Prints the connection table (Zeek conn_state and history, listener and accepted descriptors) and each
 * host's socket table at the end; `--frames` adds every frame's demux verdict; `--json` is one object
 * (DESIGN.md output contract), `--ndjson` streams verdicts and connection records, then a summary;
 * `--write` copies the capture as pcapng with every frame's verdict as its comment (report/verdict-file).
 * Exit 2 for a damaged file (after everything before the damage) or bad usage, 0 otherwise.
 */
import { emulate, MAX_WORKERS, replay, splitEndpoint } from '../replay/index.js';
import type { ConnectionRecord, DemuxRecord, HostTable, ReplayOptions, ReplayResult } from '../replay/index.js';
import { replayCaptureParallel, zeekView } from '../report/replay.js';
import { emulateJson, formatEmulate } from '../report/emulate.js';
import { isPersonalityName, personalityByName, PERSONALITY_NAMES } from '../script/env.js';
import { DiagramCollector } from '../report/diagram.js';
import { statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { VerdictPcapng } from '../report/verdict-file.js';
import { PROGRESS_MIN_BYTES, ProgressBar, wantProgress } from './progress.js';
import { linkTypeName } from '../wire/linktype.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { createPcapng, PipeClosed } from './output.js';
import type { Output } from './output.js';

export const REPLAY_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', kind: 'flag', help: 'one JSON object: frames, connections, hosts (and demux with --frames)' },
  { name: 'ndjson', kind: 'flag', help: 'one JSON object per line: each verdict (with --frames) and connection as it is final, then the summary' },
  { name: 'frames', kind: 'flag', help: 'every TCP frame with its demux step, socket, descriptor, action and resulting state' },
  { name: 'listen', kind: 'list', valueName: 'ADDR:PORT...', help: 'listeners bound to that address (others bind to ANY); created even if never seen answering' },
  { name: 'at', kind: 'string', valueName: 'FRAME', help: 'show the socket tables as they stand after frame FRAME (default: at the end)' },
  { name: 'diagram', kind: 'string', valueName: 'CONN|all', help: 'a ladder diagram of connection CONN (an id from the table), or of all' },
  { name: 'svg', kind: 'string', valueName: 'FILE', help: 'write the --diagram connection as an SVG ladder to FILE' },
  { name: 'write', short: 'w', kind: 'string', valueName: 'FILE.pcapng', help: "copy the capture to FILE.pcapng with a comment on every frame giving synack's verdict" },
  { name: 'infer-listeners', kind: 'string', valueName: 'prepass|lazy|off', help: "how listeners are found: prepass (default) reads the file first; lazy at each one's first SYN-ACK, as synack live must; off: only --listen" },
  { name: 'workers', short: 'j', kind: 'string', valueName: 'N', help: 'replay over N threads, the frames split by 4-tuple; the same output (default 1)' },
  { name: 'host', kind: 'string', valueName: 'ADDR', help: "emulate mode: synack's own stack in ADDR's place; every segment ADDR sent is an expectation (exit 1 if one is not met)" },
  { name: 'personality', short: 'p', kind: 'string', valueName: 'NAME', help: `with --host: the personality synack plays ADDR with: ${PERSONALITY_NAMES.join(', ')} (default linux)` },
  { name: 'quiet', short: 'q', kind: 'flag', help: 'print only the closing counts (to stderr)' },
];

export const REPLAY_USAGE = `usage: synack replay FILE [--json | --ndjson] [--frames] [--listen ADDR:PORT...] [--at FRAME] [--write OUT.pcapng] [-j N] [-q]
       synack replay FILE --host ADDR [--personality NAME] [--json] [-q]

Replays a pcap or pcapng file in observe mode: every address becomes a host with a socket table,
listeners are inferred from who answered SYNs (they take descriptors 3, 4, ... before the first frame),
an accepted socket takes the lowest free descriptor when its handshake completes, and every TCP frame is
demultiplexed at its receiver (4-tuple, listener on the exact address, listener on ANY, none) and
checked against its sender's state. Connection states are Zeek's conn_state and history.

With --host ADDR (emulate mode), synack's own stack stands where ADDR stood: its application is inferred
from the capture (listen where ADDR answered SYNs, connect where it sent them, send what it sent, close
or shut down where it sent its FIN, abort where it reset), the peers' segments are fed to it at their
times with sequence numbers and timestamps translated to its own ISNs, and each segment it sends is
compared with ADDR's, both relative to their own ISNs. Exit 0 when every one matched, 1 otherwise.`;

/** Socket rows printed per host, and hosts printed, before "... N more" (--json has them all). */
const MAX_ROWS = 40;
const MAX_HOSTS = 40;

export function runReplay(args: ParsedArgs, out: Output, err: (s: string) => void): number {
  const file = args.positionals[0];
  if (file === undefined || args.positionals.length > 1) throw new UsageError(args.positionals.length > 1 ? `one FILE expected, got ${args.positionals.length}` : 'FILE missing');
  const host = args.values.get('host');
  if (host !== undefined) return runEmulate(file, host, args, out, err);
  if (args.values.has('personality')) throw new UsageError('--personality goes with --host ADDR (emulate mode)');
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
  const infer = args.values.get('infer-listeners') ?? 'prepass';
  if (infer !== 'prepass' && infer !== 'lazy' && infer !== 'off') throw new UsageError(`--infer-listeners: prepass, lazy or off, got ${JSON.stringify(infer)}`);
  const workersText = args.values.get('workers') ?? '1';
  const workers = Number(workersText);
  if (!/^\d+$/.test(workersText) || workers < 1 || workers > MAX_WORKERS) throw new UsageError(`--workers needs a number from 1 to ${MAX_WORKERS}, got ${JSON.stringify(workersText)}`);
  if (workers > 1) {
    // Each of these needs every frame in one thread, in order.
    if (diagramText !== undefined) throw new UsageError('--diagram needs --workers 1 (a diagram is drawn from one thread)');
    if (args.values.has('write')) throw new UsageError('--write needs --workers 1 (the file is written in frame order from one thread)');
    if (infer !== 'prepass') throw new UsageError('--infer-listeners lazy/off needs --workers 1 (the shards share the pre-pass listeners)');
  }
  const options: ReplayOptions = {
    listen,
    hostTables: !quiet,
    connView: diagrams?.factory ?? zeekView,
    inferListeners: infer,
  };
  const writeFile = args.values.get('write');
  let annotated: VerdictPcapng | null = null;
  if (writeFile !== undefined) {
    if (resolve(writeFile) === resolve(file)) throw new UsageError(`--write ${writeFile}: that is the capture being read`);
    const w = createPcapng(writeFile, 'replay', err);
    if (w === null) return 2;
    const vw = new VerdictPcapng(w);
    annotated = vw;
    options.onFrame = (f) => vw.write(f.frame, f.verdict, f.decoded, f.interfaces);
  }
  if (atText !== undefined) options.tablesAt = Number(atText);
  let connections = 0;
  // A parallel replay counts its connections itself (connectionCount): no record crosses threads for -q.
  if (quiet && !json && workers === 1) {
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

  const print: PrintOptions = { json, ndjson, quiet, frames, diagrams, diagramText, svgFile };
  if (workers > 1) {
    if (quiet && !json) options.connections = false;
    const { connView: _v, inferListeners: _i, ...rest } = options;
    // Async: the exit code is set when the shards are done (main() has returned 0 by then).
    replayCaptureParallel(file, { ...rest, workers }).then(
      (r) => {
        out.flush();
        // The parallel replay's own fields stay out of the output, which is then the same as with one worker.
        const { connectionCount, shardFrames: _s, ...plain } = r;
        process.exitCode = printResult(plain, connectionCount, print, out, err);
      },
      (e: unknown) => {
        if (e instanceof PipeClosed) return;
        throw e;
      },
    );
    return 0;
  }
  let bar: ProgressBar | null = null;
  const env = { stderrIsTTY: process.stderr.isTTY === true, stdoutIsTTY: process.stdout.isTTY === true, streaming: ndjson || (frames && !json && !quiet), ci: process.env['CI'] !== undefined };
  if (wantProgress(env)) {
    const size = fileSize(file);
    if (size >= PROGRESS_MIN_BYTES) {
      const b = new ProgressBar(size, (s) => void process.stderr.write(s));
      options.onProgress = (offset, frame) => b.update(offset, frame);
      bar = b;
    }
  }
  let result: ReplayResult;
  try {
    result = replay(file, options);
  } finally {
    bar?.end();
    annotated?.close();
    out.flush();
  }

  if (annotated !== null) err(`synack: wrote ${annotated.frames} frames, each with its verdict, to ${writeFile as string}`);
  return printResult(result, connections, print, out, err);
}

interface PrintOptions {
  json: boolean;
  ndjson: boolean;
  quiet: boolean;
  frames: boolean;
  diagrams: DiagramCollector | null;
  diagramText: string | undefined;
  svgFile: string | undefined;
}

/** What is printed once the replay is done (streamed lines are out already); returns the exit code. */
function printResult(result: ReplayResult, connections: number, p: PrintOptions, out: Output, err: (s: string) => void): number {
  const { json, ndjson, quiet, frames, diagrams, diagramText, svgFile } = p;
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

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // replay() reports the file's error itself
  }
}

/** Options emulate mode has no use for. */
const OBSERVE_ONLY = ['ndjson', 'frames', 'listen', 'at', 'diagram', 'svg', 'write', 'infer-listeners', 'workers'] as const;

/** `synack replay FILE --host ADDR`: exit 0 all matched, 1 a difference, 2 bad input. */
function runEmulate(file: string, host: string, args: ParsedArgs, out: Output, err: (s: string) => void): number {
  for (const o of OBSERVE_ONLY) if (args.flags.has(o) || args.values.has(o) || args.lists.has(o)) throw new UsageError(`--${o} does not go with --host (emulate mode)`);
  const name = args.values.get('personality') ?? 'linux';
  if (!isPersonalityName(name)) throw new UsageError(`--personality must be one of ${PERSONALITY_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  const r = emulate(file, { host, personality: personalityByName(name) });
  if (r.error !== null && r.expected === 0 && r.connections.length === 0) {
    err(`synack: ${r.error}`);
    return 2;
  }
  const summary = `matched ${r.matched}/${r.expected} expected segments, ${r.diffs.length} differences`;
  if (args.flags.has('json')) {
    // The observe-mode object of the same file, with the emulation in it (DESIGN.md output contract).
    const observed = replay(file, { connView: zeekView, hostTables: false });
    out.line(JSON.stringify({ ...observed, emulate: emulateJson(r) }));
  } else if (!args.flags.has('quiet')) {
    for (const line of formatEmulate(r)) out.line(line);
  }
  out.flush();
  if (args.flags.has('quiet')) err(summary);
  if (r.error !== null) {
    err(`synack: ${r.error}`);
    return 2;
  }
  return r.diffs.length === 0 && r.matched === r.expected ? 0 : 1;
}

// -----------------------------------------------------------------------------------------------------
// Text output

export const FRAME_HEADER = `${'frame'.padStart(6)}  ${'flags'.padEnd(5)} ${'receiving socket (local <- remote)'.padEnd(44)} ${'step'.padEnd(14)} ${'fd'.padStart(3)} ${'lfd'.padStart(3)} ${'conn'.padStart(4)}  ${'action'.padEnd(16)} state (sender)`;

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

/**
 * One connection on one line, for a stream of them (synack live prints each as it is final):
 * `conn 1  198.18.0.2:40000 > 198.18.0.1:7  SF ShADadFf  listener fd 3  accepted fd 4  10 frames  0.012 s`.
 */
export function formatConnection(c: ConnectionRecord): string {
  const n = notes(c);
  return (
    `conn ${c.id}  ${c.client} > ${c.server}  ${c.state ?? '-'} ${c.history ?? '-'}  listener fd ${dash(c.listenerFd)}  ` +
    `accepted fd ${dash(c.serverFd)}  ${c.frames} frames  ${c.duration.toFixed(3)} s${n === '' ? '' : `  ${n}`}`
  );
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
