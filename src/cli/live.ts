/**
 * `synack live -i IFACE`: observe mode on a live interface — what `synack replay` does with a file, as
 * the frames arrive. The capture sees both directions (the local kernel's own frames too: they are half
 * of every connection it takes part in). Frames go to the same Observer that replay() drives, one at a
 * time inside cap's callback (cap reuses its buffer: nothing of a frame is kept, the --write copy is
 * made there and then), stamped with the time synack saw them (cap gives none).
 *
 * Output: each connection as its record is final (closed and quiet for the linger, reused, or at the
 * end); with --frames every TCP frame's verdict first; with --json the same as NDJSON objects, as
 * `replay --ndjson` prints them. On a terminal, a status line of frame and connection counts on stderr.
 * SIGINT (Ctrl-C) or SIGTERM ends the observation: the connections still open are reported, the summary
 * (connection table and socket tables, as replay prints them) follows, the --write file is closed, and
 * the capture released so the process exits. A closed output pipe ends it the same way.
 *
 * Listeners: a live stream cannot be read twice, so they are inferred lazily, at each one's first
 * SYN-ACK (ReplayOptions.inferListeners 'lazy'). The SYN before it found no listener yet (its verdict
 * says step none, action reset, though the kernel answered it), and a listener's descriptor is the
 * lowest free one at that moment, after sockets already accepted, where a pre-pass over a file gives
 * listeners the lowest descriptors. `synack replay FILE --infer-listeners lazy` on the --write file
 * gives exactly what live printed.
 */
import { isLiveError, LIVE_MAX_SNAPLEN, openLive } from '../capture/live.js';
import type { LiveCapture, LiveFrame } from '../capture/live.js';
import { Observer } from '../replay/observe.js';
import type { ConnectionRecord, DemuxRecord, ReplayOptions } from '../replay/types.js';
import { zeekView } from '../report/replay.js';
import { VerdictPcapng } from '../report/verdict-file.js';
import type { InterfaceDescription } from '../report/verdict-file.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { onStopSignal } from './live-session.js';
import { createPcapng, QueuedOutput } from './output.js';
import type { Output } from './output.js';
import { FRAME_HEADER, formatConnection, formatResult, formatVerdict } from './replay.js';
import { StatusLine } from './status.js';

export const LIVE_OPTIONS: readonly OptionSpec[] = [
  { name: 'iface', short: 'i', kind: 'string', valueName: 'IFACE', help: 'the interface to observe (frames in both directions)' },
  { name: 'filter', short: 'f', kind: 'string', valueName: 'BPF', help: 'only frames this pcap-filter(7) expression matches (e.g. "tcp port 80")' },
  { name: 'frames', kind: 'flag', help: "every TCP frame's verdict as it arrives: demux step, socket, fd, action, state" },
  { name: 'json', kind: 'flag', help: 'NDJSON: each verdict (with --frames) and connection as it is final, then the summary (as replay --ndjson)' },
  { name: 'write', short: 'w', kind: 'string', valueName: 'FILE.pcapng', help: 'write every frame seen, with its verdict as a comment (synack replay reads it back)' },
];

export const LIVE_USAGE = `usage: synack live -i IFACE [--filter BPF] [--frames] [--json] [--write FILE.pcapng]

Observe mode on a live interface: every address seen is a host with a socket table and every TCP frame
is demultiplexed at its receiver, as synack replay does with a file. Each connection is printed when it
is over (closed, then quiet for 2 s); Ctrl-C prints the connection table and socket tables, and closes
the --write file. Listeners are inferred at their first SYN-ACK (a live stream cannot be read twice): the
SYN before it shows as to no socket, and listeners take the lowest free descriptor at that moment.
Needs CAP_NET_RAW (run as root, or: sudo setcap cap_net_raw,cap_net_admin=eip $(which node)) and the
\`cap\` package built (apt-get install libpcap-dev; npm rebuild cap).`;

/** How often the clock moves between frames (connections over are reported) and the status line is drawn. */
const TICK_MS = 250;
/** How often the --write file is flushed, so an observation killed hard loses at most this much. */
const FILE_FLUSH_MS = 1000;

export function runLive(args: ParsedArgs, out: Output, err: (s: string) => void): number {
  if (args.positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(args.positionals[0])}`);
  const iface = args.values.get('iface');
  if (iface === undefined) throw new UsageError('-i IFACE missing');
  const filter = args.values.get('filter');
  const frames = args.flags.has('frames');
  const json = args.flags.has('json');
  const writeFile = args.values.get('write');

  // Both directions: a connection's two halves, the local kernel's frames included.
  const opened = openLive(iface, { direction: 'inout', ...(filter !== undefined ? { filter } : {}) });
  if (isLiveError(opened)) {
    err(`synack live: ${opened.message}`);
    return 2;
  }
  const cap: LiveCapture = opened;
  let pcap: VerdictPcapng | null = null;
  if (writeFile !== undefined) {
    const w = createPcapng(writeFile, 'live', err);
    if (w === null) {
      cap.close();
      return 2;
    }
    pcap = new VerdictPcapng(w);
  }
  const interfaces: InterfaceDescription[] = [
    // Times are whole microseconds (the clock at the event): if_tsresol 6 holds them exactly.
    { linkType: cap.linkType, snaplen: LIVE_MAX_SNAPLEN, name: iface, description: `synack live${filter !== undefined ? `, filter ${filter}` : ''}`, tsresol: 6 },
  ];

  const status = new StatusLine();
  const q = new QueuedOutput(out, { onClose: () => end(), beforeWrite: () => status.clear() });
  let connections = 0;
  const options: ReplayOptions = {
    inferListeners: 'lazy',
    connView: zeekView,
    // With --json the records are streamed, not kept (memory stays flat however long it runs).
    connections: !json,
    onConnection: (c: ConnectionRecord) => {
      connections++;
      q.line(json ? JSON.stringify({ type: 'connection', ...c }) : formatConnection(c));
    },
    verdicts: pcap !== null,
  };
  if (frames) {
    options.onVerdict = json ? (v: DemuxRecord) => q.line(JSON.stringify({ type: 'demux', ...v })) : (v: DemuxRecord) => q.line(formatVerdict(v));
    if (!json) q.line(FRAME_HEADER);
  }
  const obs = new Observer(options);

  const startedUs = cap.now();
  cap.onFrame((f: LiveFrame) => {
    const v = obs.frame(f);
    pcap?.write(f, v, obs.decoded, interfaces);
  });

  let lastFileFlush = startedUs;
  const tick = setInterval(() => {
    const now = cap.now();
    obs.advance(now);
    if (pcap !== null && now - lastFileFlush >= FILE_FLUSH_MS * 1000) {
      pcap.flush();
      lastFileFlush = now;
    }
    const c = obs.counts;
    status.show(`synack live ${iface}: ${c.total} frames, ${c.tcp} TCP; connections: ${obs.openConnections} open, ${connections} over (Ctrl-C ends)`);
  }, TICK_MS);

  err(`synack live: observing ${iface} (both directions${filter !== undefined ? `, filter ${JSON.stringify(filter)}` : ''}); Ctrl-C ends`);

  let ended = false;
  const stopSignals = onStopSignal(() => end());
  function end(): void {
    if (ended) return;
    ended = true;
    stopSignals();
    clearInterval(tick);
    const stats = cap.stats();
    cap.close();
    status.clear();
    const result = obs.finish({ file: cap.iface, format: 'live', linkTypes: [cap.linkType], interfaces: 1, error: null });
    pcap?.close();
    const seconds = Math.round((cap.now() - startedUs) / 1000) / 1000;
    if (json) {
      const { connections: _c, demux: _d, ...summary } = result;
      q.line(JSON.stringify({ type: 'summary', ...summary, iface, filter: filter ?? null, seconds, captured: stats.frames, truncated: stats.truncated }));
    } else {
      if (frames || connections > 0) q.line('');
      for (const l of formatResult(result)) q.line(l);
    }
    q.flush();
    const f = result.frames;
    err(`synack live: ${f.total} frames, ${f.tcp} TCP, ${connections} connections in ${seconds.toFixed(1)} s${pcap !== null ? `; wrote ${writeFile as string}` : ''}`);
    process.exitCode = 0;
  }
  return 0;
}
