/**
 * A capture copied with synack's verdict on every frame, as pcapng comments: what `synack replay
 * --write` and `synack live --write` produce. Wireshark shows the comment in the packet list (column
 * `frame.comment`) and filters on it (`frame.comment contains "listener-any"`).
 *
 * Nothing is lost: every frame goes out with its bytes, wire length and time (if_tsresol 6 where the
 * input counted microseconds or coarser, else 9: nanoseconds kept), on an interface that mirrors the
 * input's (link type, snap length, name, description), and with the input's own comments before ours.
 *
 * The comment of a TCP frame is one line that `parseVerdictComment` reads back into the DemuxRecord:
 *
 *   synack frame 3: S 198.18.0.1:80 <- 198.18.0.11:40001; conn 1; listener-any; fd -; listener fd 3;
 *   cloned; SYN-RECEIVED; sender SYN-SENT
 *
 * (on one line; then `; midstream`, `; late`, `; bad checksum`, `; anomaly CODE` when they apply).
 * Any other frame says what it is or why it was not decoded: `synack frame 7: not TCP: ARP, Request
 * who-has 198.18.0.1 tell 198.18.0.2`, `synack frame 9: IP fragment: ...`, `synack frame 4: not
 * decoded: ... [truncated ipv4 header at byte 14]`.
 */
import type { InterfaceInfo } from '../capture/frame.js';
import type { CaptureFrame } from '../capture/frame.js';
import type { PcapngWriter } from '../capture/writer.js';
import type { DemuxRecord, ObserveAction } from '../replay/types.js';
import type { DemuxStep } from '../socket/demux.js';
import { TCP_STATES } from '../tcp/state.js';
import type { TcpState } from '../tcp/state.js';
import type { DecodedFrame } from '../wire/frame-decoder.js';
import { formatFrameBody, summarizeFrame } from './frames.js';

/** What an output interface copies from an input one. */
export type InterfaceDescription = Pick<InterfaceInfo, 'linkType' | 'snaplen' | 'name' | 'description' | 'tsresol'>;

function dash(n: number | null): string {
  return n === null ? '-' : String(n);
}

/** The comment of a TCP frame: its verdict, on one line. */
export function verdictComment(v: DemuxRecord): string {
  let s =
    `synack frame ${v.frame}: ${v.flags} ${v.socket}; conn ${v.connection}; ${v.step}; fd ${dash(v.fd)}; ` +
    `listener fd ${dash(v.listenerFd)}; ${v.action}; ${v.state}; sender ${v.sender}`;
  if (v.midstream) s += '; midstream';
  if (v.late) s += '; late';
  if (v.badChecksum) s += '; bad checksum';
  if (v.anomaly !== undefined) s += `; anomaly ${v.anomaly}`;
  return s;
}

/**
 * The comment of a frame with no verdict (not TCP, not decoded, an IP fragment waiting for the rest of
 * its datagram): what `synack frames` says about it, after why it has no verdict.
 */
export function frameComment(frame: CaptureFrame, decoded: DecodedFrame): string {
  const info = decoded.info;
  const why = info.error !== null ? 'not decoded' : info.fragment && decoded.reassembledFrom === undefined ? 'IP fragment' : 'not TCP';
  const body = formatFrameBody(summarizeFrame(frame, info, frame, decoded.reassembledFrom));
  return `synack frame ${frame.index}: ${why}: ${body}`;
}

const STEPS: ReadonlySet<string> = new Set<DemuxStep>(['established', 'syn-received', 'time-wait', 'listener-exact', 'listener-any', 'none']);
const ACTIONS: ReadonlySet<string> = new Set<ObserveAction>(['delivered', 'accepted', 'cloned', 'time-wait-reopen', 'aborted', 'challenge-ack', 'reset', 'dropped']);
const STATES: ReadonlySet<string> = new Set<string>(TCP_STATES);

const VERDICT_LINE =
  /^synack frame (\d+): (\S+) ((\[[^\]]+\]|[^ :]+):\d+ <- \S+); conn (\d+); ([a-z-]+); fd (\d+|-); listener fd (\d+|-); ([a-z-]+); ([A-Z0-9-]+); sender ([A-Z0-9-]+)((?:; [^;]+)*)$/;

function fdOf(text: string): number | null {
  return text === '-' ? null : Number(text);
}

/**
 * The verdict a comment carries (a frame's comments may hold the input's own lines before ours), or
 * null when it carries none: a frame that is not TCP, or a comment synack did not write.
 */
export function parseVerdictComment(comment: string | null): DemuxRecord | null {
  if (comment === null) return null;
  for (const line of comment.split('\n')) {
    const m = VERDICT_LINE.exec(line);
    if (m === null) continue;
    const [, frame, flags, socket, local, conn, step, fd, lfd, action, state, sender, extra] = m as unknown as string[];
    if (!STEPS.has(step as string) || !ACTIONS.has(action as string) || !STATES.has(state as string) || !STATES.has(sender as string)) return null;
    const host = (local as string).startsWith('[') ? (local as string).slice(1, -1) : (local as string);
    const v: DemuxRecord = {
      frame: Number(frame),
      host,
      step: step as DemuxStep,
      fd: fdOf(fd as string),
      listenerFd: fdOf(lfd as string),
      connection: Number(conn),
      action: action as ObserveAction,
      state: state as TcpState,
      sender: sender as TcpState,
      socket: socket as string,
      flags: flags as string,
    };
    for (const note of (extra as string).split('; ').slice(1)) {
      if (note === 'midstream') v.midstream = true;
      else if (note === 'late') v.late = true;
      else if (note === 'bad checksum') v.badChecksum = true;
      else if (note.startsWith('anomaly ')) v.anomaly = note.slice('anomaly '.length);
      else return null;
    }
    return v;
  }
  return null;
}

/** The if_tsresol that keeps an input interface's times: microseconds for 10^-6 or coarser, else nanoseconds. */
function outputResolution(tsresol: number): 6 | 9 {
  return (tsresol & 0x80) === 0 && tsresol <= 6 ? 6 : 9;
}

/**
 * Writes frames with their verdict comments to a pcapng writer, adding an interface for each input
 * interface as it first appears (pcapng inputs may describe interfaces between packets), so interface
 * ids stay the input's.
 */
export class VerdictPcapng {
  private added = 0;
  /** Frames written. */
  frames = 0;
  private readonly comments: string[] = [];

  constructor(readonly writer: PcapngWriter) {}

  /** One frame: `verdict` for a TCP frame, else the comment says what the frame is (from `decoded`). */
  write(frame: CaptureFrame, verdict: DemuxRecord | null, decoded: DecodedFrame, interfaces: readonly InterfaceDescription[]): void {
    for (; this.added < interfaces.length; this.added++) {
      const i = interfaces[this.added] as InterfaceDescription;
      this.writer.addInterface({ linkType: i.linkType, snaplen: i.snaplen, name: i.name, description: i.description, tsresol: outputResolution(i.tsresol) });
    }
    const ours = verdict !== null ? verdictComment(verdict) : frameComment(frame, decoded);
    const c = this.comments;
    c.length = 0;
    if (frame.comment !== null) c.push(frame.comment);
    c.push(ours);
    this.writer.writePacket(frame.interfaceId, frame.tsSec, frame.tsNsec, frame.bytes.u8, frame.offset, frame.capLen, frame.origLen, c);
    this.frames++;
  }

  /** Flushes what is buffered to the file (a live capture does it now and then, so a crash loses little). */
  flush(): void {
    this.writer.flush();
  }

  close(): void {
    this.writer.close();
  }
}
