/**
 * vitest matchers that read a Host's trace, so a test asserts demultiplexing the way the book draws it:
 *
 *   import { expect } from 'vitest';
 *   import { installMatchers } from 'synack/testing';
 *   installMatchers(expect);
 *   expect(server).toHaveDemuxed(3, { step: 'listener-exact', fd: 3, action: 'cloned' });
 *   expect(server).toHaveState(5, 'ESTABLISHED');
 *   expect(server).toHaveSent({ flags: 'S.', dst: '198.18.0.2.40000' });
 *
 * The subject is a Host (with `trace: true`), its trace array, or a replay result (`replay(file, { frames:
 * true })`: toHaveDemuxed reads its per-frame verdicts, toHaveState its socket tables). Each matcher
 * compares only the fields you give it.
 */
// Loads vitest's types so the Assertion interface below can be augmented.
import type {} from 'vitest';
import type { Host } from '../stack/host.js';
import type { SegmentNote, TraceEvent } from '../stack/trace.js';
import type { DemuxAction, DemuxStep } from '../socket/table.js';
import type { TcpState } from '../tcp/state.js';
import type { DemuxRecord, ObserveAction, ReplayResult } from '../replay/types.js';

export interface DemuxExpectation {
  step?: DemuxStep;
  fd?: number | null;
  listenerFd?: number | null;
  /** A Host's actions, or a replay's (ObserveAction: 'accepted', 'time-wait-reopen', ...). */
  action?: DemuxAction | ObserveAction;
  state?: TcpState | null;
  /** Replay results only: the receiving host's address, the connection id, the sender's state. */
  host?: string;
  connection?: number;
  sender?: TcpState;
}

export type SentExpectation = Partial<SegmentNote>;

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

type Subject = Host | readonly TraceEvent[] | ReplayResult;

function isReplayResult(x: Subject): x is ReplayResult {
  return !Array.isArray(x) && 'connections' in x && 'listenerInference' in x;
}

function demuxOf(r: ReplayResult, frame: number): DemuxRecord | undefined {
  if (r.demux === undefined) throw new Error('the replay result has no verdicts: replay with { frames: true }');
  return r.demux.find((d) => d.frame === frame);
}

function traceOf(subject: Host | readonly TraceEvent[]): readonly TraceEvent[] {
  if (Array.isArray(subject)) return subject as readonly TraceEvent[];
  const h = subject as Host;
  if (h.trace.length === 0 && h.counters.framesIn + h.counters.framesOut > 0) {
    throw new Error('the Host keeps no trace: create it with { trace: true }');
  }
  return h.trace;
}

function partialMatch(actual: object, expected: object): boolean {
  const a = actual as Record<string, unknown>;
  return Object.entries(expected).every(([k, v]) => a[k] === v);
}

export function toHaveDemuxed(subject: Subject, frame: number, expected: DemuxExpectation): MatcherResult {
  if (isReplayResult(subject)) {
    const d = demuxOf(subject, frame);
    if (d === undefined) return { pass: false, message: () => `frame ${frame} has no verdict (not a TCP frame of the capture)` };
    const pass = partialMatch(d, expected);
    const shown = JSON.stringify({ host: d.host, step: d.step, fd: d.fd, listenerFd: d.listenerFd, connection: d.connection, action: d.action, state: d.state, sender: d.sender });
    return {
      pass,
      message: () => (pass ? `frame ${frame} was demultiplexed as ${shown}, expected otherwise` : `frame ${frame}: expected ${JSON.stringify(expected)}, got ${shown}`),
    };
  }
  const events = traceOf(subject).filter((e): e is Extract<TraceEvent, { type: 'demux' }> => e.type === 'demux' && e.frame === frame);
  const e = events[0];
  if (e === undefined) {
    return { pass: false, message: () => `frame ${frame} was not demultiplexed (no TCP segment reached the socket table)` };
  }
  const pass = partialMatch(e, expected);
  const shown = JSON.stringify({ step: e.step, fd: e.fd, listenerFd: e.listenerFd, action: e.action, state: e.state });
  return {
    pass,
    message: () => (pass ? `frame ${frame} was demultiplexed as ${shown}, expected otherwise` : `frame ${frame}: expected ${JSON.stringify(expected)}, got ${shown}`),
  };
}

/**
 * The state of the socket that has descriptor `fd`: a Host's now, the last change a trace shows, or in a
 * replay result's socket tables (at the end, or after `tablesAt`) on `host` — which may be left out when
 * only one host has that descriptor.
 */
export function toHaveState(subject: Subject, fd: number, state: TcpState, host?: string): MatcherResult {
  if (isReplayResult(subject)) {
    const found = subject.hosts.flatMap((h) => (host === undefined || h.host === host ? h.sockets.filter((s) => s.fd === fd).map((s) => ({ host: h.host, state: s.state })) : []));
    const where = host === undefined ? '' : ` on ${host}`;
    if (found.length > 1) {
      return { pass: false, message: () => `fd ${fd} is open on ${found.map((f) => f.host).join(', ')}: name the host (toHaveState(fd, state, host))` };
    }
    const actual = found[0]?.state;
    const pass = actual === state;
    return { pass, message: () => (actual === undefined ? `fd ${fd} is not open${where}` : `fd ${fd}${where} is ${actual}, expected ${pass ? 'not ' : ''}${state}`) };
  }
  if (!Array.isArray(subject)) {
    const h = subject as Host;
    const s = h.sockets.fds.get(fd);
    const actual = s?.tcb.state;
    const pass = actual === state;
    return { pass, message: () => (s === undefined ? `fd ${fd} is not open` : `fd ${fd} is ${actual}, expected ${pass ? 'not ' : ''}${state}`) };
  }
  let last: TcpState | undefined;
  for (const e of subject as readonly TraceEvent[]) if (e.type === 'state' && e.fd === fd) last = e.to;
  const pass = last === state;
  return { pass, message: () => `fd ${fd}: last state in the trace is ${last ?? 'none'}, expected ${pass ? 'not ' : ''}${state}` };
}

/** Some segment the host sent matches every given field. */
export function toHaveSent(subject: Subject, expected: SentExpectation): MatcherResult {
  if (isReplayResult(subject)) throw new Error('toHaveSent reads a Host or its trace; a replay result has verdicts (toHaveDemuxed)');
  const sent = traceOf(subject)
    .filter((e): e is Extract<TraceEvent, { type: 'frame-out' }> => e.type === 'frame-out')
    .map((e) => e.segment)
    .filter((s): s is SegmentNote => s !== null);
  const pass = sent.some((s) => partialMatch(s, expected));
  return {
    pass,
    message: () =>
      pass
        ? `a segment matching ${JSON.stringify(expected)} was sent`
        : `no sent segment matches ${JSON.stringify(expected)}; sent:\n${sent.map((s) => `  ${s.src} > ${s.dst} [${s.flags}] seq ${s.seq} ack ${s.ack} win ${s.window} len ${s.length} <${s.options}>`).join('\n')}`,
  };
}

export const synackMatchers = {
  toHaveDemuxed: (subject: Subject, frame: number, expected: DemuxExpectation) => toHaveDemuxed(subject, frame, expected),
  toHaveState: (subject: Subject, fd: number, state: TcpState, host?: string) => toHaveState(subject, fd, state, host),
  toHaveSent: (subject: Subject, expected: SentExpectation) => toHaveSent(subject, expected),
};

/** Registers the matchers: `installMatchers(expect)` with vitest's expect. */
export function installMatchers(expect: { extend(m: Record<string, unknown>): void }): void {
  expect.extend(synackMatchers);
}

declare module 'vitest' {
  interface Assertion<T> {
    toHaveDemuxed(frame: number, expected: DemuxExpectation): T;
    toHaveState(fd: number, state: TcpState, host?: string): T;
    toHaveSent(expected: SentExpectation): T;
  }
  interface AsymmetricMatchersContaining {
    toHaveDemuxed(frame: number, expected: DemuxExpectation): unknown;
  }
}
