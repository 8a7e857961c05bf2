/** `synack frames FILE`: one line per frame, tcpdump style, or one JSON object per line with --json. */
import { openCapture } from '../capture/index.js';
import { FrameDecoder } from '../wire/frame-decoder.js';
import { summarizeFrame, formatFrameLine, tcpChecksumStatus } from '../report/frames.js';
import type { OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { Output } from './output.js';

export const FRAMES_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', kind: 'flag', help: 'one JSON object per frame (NDJSON) instead of text lines' },
  { name: 'count', short: 'c', kind: 'string', valueName: 'N', help: 'stop after N frames' },
  { name: 'quiet', short: 'q', kind: 'flag', help: 'print only the closing counts (to stderr)' },
];

export const FRAMES_USAGE = `usage: synack frames FILE [--json] [-c N] [-q]

Decodes every frame of a pcap or pcapng file: link layer (Ethernet, 802.1Q/ad, Linux SLL/SLL2,
NULL/LOOP, raw IP), IPv4/IPv6 (+extension headers, fragments reassembled), TCP with options, ARP, NDP.`;

export interface FramesCounts {
  frames: number;
  tcp: number;
  malformed: number;
  badChecksum: number;
}

export function runFrames(args: ParsedArgs, out: Output, err: (s: string) => void): number {
  const file = args.positionals[0];
  if (file === undefined || args.positionals.length > 1) throw new UsageError(args.positionals.length > 1 ? `one FILE expected, got ${args.positionals.length}` : 'FILE missing');
  const countText = args.values.get('count');
  const limit = countText === undefined ? Infinity : Number(countText);
  if (countText !== undefined && (!/^\d+$/.test(countText) || !Number.isSafeInteger(limit))) {
    throw new UsageError(`--count needs a whole number, got ${JSON.stringify(countText)}`);
  }
  const json = args.flags.has('json');
  const quiet = args.flags.has('quiet');

  const reader = openCapture(file);
  const decoder = new FrameDecoder();
  const counts: FramesCounts = { frames: 0, tcp: 0, malformed: 0, badChecksum: 0 };
  let first: { tsSec: number; tsNsec: number } | null = null;
  try {
    for (let f = reader.next(); f && counts.frames < limit; f = reader.next()) {
      first ??= { tsSec: f.tsSec, tsNsec: f.tsNsec };
      counts.frames++;
      const d = decoder.decode(f.linkType, f.bytes, f.offset, f.capLen, f.index, f.tsSec * 1e6 + Math.floor(f.tsNsec / 1000));
      const info = d.info;
      if (info.tcp) {
        counts.tcp++;
        if (tcpChecksumStatus(info) === 'bad') counts.badChecksum++;
      }
      // A header the snap length cut is the capture's doing, not a malformed frame.
      if (info.error !== null && !(info.error === 'truncated' && f.capLen < f.origLen)) counts.malformed++;
      if (quiet) continue;
      const s = summarizeFrame(f, info, first, d.reassembledFrom);
      out.line(json ? JSON.stringify(s) : formatFrameLine(s));
    }
  } finally {
    out.flush();
    reader.close();
  }
  const summary = `${counts.frames} frames, ${counts.tcp} TCP, ${counts.malformed} malformed, ${counts.badChecksum} bad TCP checksums`;
  if (reader.error) {
    err(`synack: ${reader.error.message}`);
    err(`synack: ${summary} read before the error`);
    return 2;
  }
  if (quiet) err(summary);
  return 0;
}
