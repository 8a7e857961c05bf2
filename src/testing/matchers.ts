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
 * The subject is a Host (with `trace: true`) or its trace array. Each matcher compares only the fields
 * you give it.
 */
// Loads vitest's types so the Assertion interface below can be augmented.
import type {} from 'vitest';
import type { Host } from '../stack/host.js';
import type { SegmentNote, TraceEvent } from '../stack/trace.js';
import type { DemuxAction, DemuxStep } from '../socket/table.js';
import type { TcpState } from '../tcp/state.js';

export interface DemuxExpectation {
  step?: DemuxStep;
  fd?: number | null;
  listenerFd?: number | null;
  action?: DemuxAction;
  state?: TcpState | null;
}

export type SentExpectation = Partial<SegmentNote>;

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

type Subject = Host | readonly TraceEvent[];

function traceOf(subject: Subject): readonly TraceEvent[] {
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

/** The state of the socket that has descriptor `fd` after the last state change the trace shows for it. */
export function toHaveState(subject: Subject, fd: number, state: TcpState): MatcherResult {
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
  toHaveState: (subject: Subject, fd: number, state: TcpState) => toHaveState(subject, fd, state),
  toHaveSent: (subject: Subject, expected: SentExpectation) => toHaveSent(subject, expected),
};

/** Registers the matchers: `installMatchers(expect)` with vitest's expect. */
export function installMatchers(expect: { extend(m: Record<string, unknown>): void }): void {
  expect.extend(synackMatchers);
}

declare module 'vitest' {
  interface Assertion<T> {
    toHaveDemuxed(frame: number, expected: DemuxExpectation): T;
    toHaveState(fd: number, state: TcpState): T;
    toHaveSent(expected: SentExpectation): T;
  }
  interface AsymmetricMatchersContaining {
    toHaveDemuxed(frame: number, expected: DemuxExpectation): unknown;
  }
}
