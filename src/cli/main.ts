#!/usr/bin/env node
/**
 * The synack command line. Exit codes: 0 done, 1 an expectation was not met, 2 bad input or usage.
 */
import { formatOptions, parseArgs, UsageError } from './args.js';
import type { OptionSpec } from './args.js';
import { FRAMES_OPTIONS, FRAMES_USAGE, runFrames } from './frames.js';
import { REPLAY_OPTIONS, REPLAY_USAGE, runReplay } from './replay.js';
import { SCRIPT_OPTIONS, SCRIPT_USAGE, runScriptCommand } from './script.js';
import { SERVE_OPTIONS, SERVE_USAGE, runServe } from './serve.js';
import { CONNECT_OPTIONS, CONNECT_USAGE, runConnect } from './connect.js';
import { LIVE_OPTIONS, LIVE_USAGE, runLive } from './live.js';
import { Output, PipeClosed } from './output.js';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: readonly OptionSpec[];
  run(args: ReturnType<typeof parseArgs>, out: Output, err: (s: string) => void): number;
}

const COMMANDS: Record<string, Command> = {
  frames: { summary: 'decode every frame of a capture, tcpdump style or as JSON', usage: FRAMES_USAGE, options: FRAMES_OPTIONS, run: runFrames },
  replay: { summary: 'replay a capture: every host\'s sockets, each frame\'s demux verdict, Zeek connection states', usage: REPLAY_USAGE, options: REPLAY_OPTIONS, run: runReplay },
  script: { summary: 'run packetdrill scripts against synack, in-process, on a virtual clock', usage: SCRIPT_USAGE, options: SCRIPT_OPTIONS, run: runScriptCommand },
  // live, serve and connect return at once (0, or 2 when the interface cannot be opened); their session sets process.exitCode when it ends.
  live: { summary: 'observe an interface as replay observes a file: each frame\'s demux verdict, connections as they end', usage: LIVE_USAGE, options: LIVE_OPTIONS, run: runLive },
  serve: { summary: 'be a host on an interface and serve ports with synack\'s own TCP (echo, discard, http)', usage: SERVE_USAGE, options: SERVE_OPTIONS, run: runServe },
  connect: { summary: 'be a host on an interface and connect to a server with synack\'s own TCP', usage: CONNECT_USAGE, options: CONNECT_OPTIONS, run: runConnect },
};

const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', kind: 'flag', help: 'show this help' };

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `synack — a userspace TCP endpoint you can watch

usage: synack COMMAND [options]

commands:
${rows.join('\n')}

Run 'synack COMMAND --help' for a command's options.`;
}

/** The bundled kernel capture: web on :80 and mail on :25 served by Linux to three clients. */
const DEMO_CAPTURE = fileURLToPath(new URL('../../fixtures/web-mail-v4.pcap', import.meta.url));

/**
 * `synack` with no arguments: the book's chapter on a real capture — the listening sockets, the accepted
 * sockets that share ports 80 and 25 told apart by their 4-tuples and descriptors, and one handshake.
 */
function demo(out: Output, err: (s: string) => void): number {
  out.line(`synack replays ${relative(process.cwd(), DEMO_CAPTURE) || DEMO_CAPTURE}: the Linux kernel serving web (:80) and mail (:25)`);
  out.line('to three clients. Two listening sockets (fds 3 and 4); every accepted socket is a clone that keeps its');
  out.line("listener's port and is told apart only by its 4-tuple. The socket tables are shown after frame 52,");
  out.line('when four connections share port 80; then the ladder of connection 1.');
  out.line('');
  const args = parseArgs([DEMO_CAPTURE, '--at', '52', '--diagram', '1'], REPLAY_OPTIONS);
  const code = runReplay(args, out, err);
  out.line('');
  out.line("More: 'synack replay FILE --frames' (every frame's demux verdict), 'synack --help' (all commands).");
  out.flush();
  return code;
}

export function main(argv: readonly string[]): number {
  const out = new Output();
  const err = (s: string): void => void process.stderr.write(s + '\n');
  const [name, ...rest] = argv;
  if (name === undefined) return demo(out, err);
  if (name === '--help' || name === '-h' || name === 'help') {
    out.line(mainHelp());
    out.flush();
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    err(`synack: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  const specs = [...cmd.options, HELP_OPTION];
  try {
    const args = parseArgs(rest, specs);
    if (args.flags.has('help')) {
      out.line(`${cmd.usage}\n\noptions:\n${formatOptions(specs)}`);
      out.flush();
      return 0;
    }
    return cmd.run(args, out, err);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`synack ${name}: ${e.message}\n\n${cmd.usage}\n\noptions:\n${formatOptions(specs)}`);
      return 2;
    }
    if (e instanceof PipeClosed) return 0;
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
