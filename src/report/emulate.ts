/**
 * Emulate mode as text and as the JSON contract's `emulate` object (DESIGN.md): the inferred
 * application, a line per connection of the host with matched/expected, every difference with both
 * segments in packetdrill notation, and the total.
 */
import type { EmulateDiff, EmulateResult } from '../replay/emulate.js';
import { DEFAULT_BACKLOG } from '../replay/infer-app.js';

/** The `emulate` object of `synack replay FILE --host ADDR --json`. */
export function emulateJson(r: EmulateResult): Record<string, unknown> {
  const count = (c: string): number => r.app.calls.filter((x) => x.call === c).length;
  return {
    host: r.host,
    personality: r.personality,
    expected: r.expected,
    matched: r.matched,
    diffs: r.diffs,
    connections: r.connections,
    application: {
      listeners: r.app.listeners,
      calls: { connect: count('connect'), send: count('send'), close: count('close'), shutdown: count('shutdown'), abort: count('abort') },
      notes: r.app.notes,
    },
    undelivered: r.undelivered,
    zeroFilled: r.zeroFilled,
    reordered: r.reordered,
    appErrors: r.appErrors,
  };
}

/** Connections and differences printed before "... N more" (--json has them all). */
export const EMULATE_TEXT_LIMIT = 100;

export function formatEmulate(r: EmulateResult, limit = EMULATE_TEXT_LIMIT): string[] {
  const lines: string[] = [`${r.file}: synack (${r.personality}) in the place of ${r.host}, with its own ISNs; the peers' segments translated to them`];
  const app = r.app;
  const count = (c: string): number => app.calls.filter((x) => x.call === c).length;
  const listens = app.listeners.map((l) => `${l.addr.includes(':') ? `[${l.addr}]` : l.addr}:${l.port}${l.backlog !== DEFAULT_BACKLOG ? ` (backlog ${l.backlog})` : ''}`);
  lines.push(
    `application (inferred): ${listens.length > 0 ? `listen ${listens.join(', ')}; ` : ''}${count('connect')} connect, ${count('send')} send, ${count('close')} close, ${count('shutdown')} shutdown, ${count('abort')} abort`,
  );
  for (const n of app.notes) lines.push(`  ${n}`);
  for (const e of r.appErrors) lines.push(`  could not: ${e}`);
  if (r.undelivered.length > 0) lines.push(`  not fed to synack (bad checksum): ${frameList(r.undelivered.map((u) => u.frame))}`);
  if (r.reordered.length > 0) {
    const moved = r.reordered.map((x) => ('before' in x ? `frame ${x.frame} before ${x.before}` : `frame ${x.frame} after ${x.after}`));
    lines.push(`  fed in the order the acknowledgments show: ${moved.slice(0, 10).join(', ')}${moved.length > 10 ? ', ...' : ''}`);
  }
  if (r.zeroFilled.length > 0) lines.push(`  payload cut by the capture, fed with zeros: ${frameList(r.zeroFilled)}`);
  lines.push('');
  const rows = r.connections.slice(0, limit).map((c) => [`${c.local} - ${c.remote}`, c.firstFrame === null ? '-' : String(c.firstFrame), `${c.matched}/${c.expected}`, c.extra > 0 ? `+${c.extra} extra` : '']);
  const head = ['connection (host - peer)', 'first frame', 'matched', ''];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const row = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(w[i] as number) : c.padEnd(w[i] as number)))
      .join('  ')
      .trimEnd();
  lines.push(row(head), ...rows.map(row));
  const moreConns = r.connections.slice(limit);
  if (moreConns.length > 0) {
    const bad = moreConns.filter((c) => c.matched < c.expected || c.extra > 0).length;
    lines.push(`... ${moreConns.length} more connections, ${bad} of them with differences (--json lists them all)`);
  }
  if (r.diffs.length > 0) {
    lines.push('', `differences (${r.diffs.length}), relative to each side's ISNs; TS val is shown, not compared:`);
    for (const d of r.diffs.slice(0, limit)) lines.push(...formatDiff(d));
    if (r.diffs.length > limit) lines.push(`... ${r.diffs.length - limit} more differences (--json lists them all)`);
  }
  const extra = r.diffs.filter((d) => d.kind === 'extra').length;
  lines.push('', `matched ${r.matched}/${r.expected} expected segments${extra > 0 ? `; ${extra} segment${extra > 1 ? 's' : ''} synack sent that ${r.host} did not` : ''}`);
  return lines;
}

function frameList(frames: readonly number[]): string {
  return `frame${frames.length > 1 ? 's' : ''} ${frames.slice(0, 10).join(', ')}${frames.length > 10 ? `, ... (${frames.length})` : ''}`;
}

const secs = (t: number | null): string => (t === null ? '' : `${t.toFixed(6)} s`);

/**
 * frame 18  198.18.0.1:80 > 198.18.0.11:40001  differs in win
 *   expected  0.302034 s  > P. 1:18(17) ack 27 win 64 <nop,nop,TS val 302 ecr 302>
 *   actual    0.302034 s  > P. 1:18(17) ack 27 win 1040 <nop,nop,TS val 302 ecr 302>
 */
export function formatDiff(d: EmulateDiff): string[] {
  const what = d.kind === 'differs' ? `differs in ${d.fields.join(', ')}` : d.kind === 'missing' ? 'synack did not send it' : 'synack sent it; the host did not';
  const t = Math.max(secs(d.expectedTime).length, secs(d.actualTime).length);
  return [
    `${d.frame === null ? 'extra' : `frame ${d.frame}`}  ${d.segment}  ${what}`,
    `  expected  ${secs(d.expectedTime).padEnd(t)}  ${d.expected ?? '(nothing)'}`,
    `  actual    ${secs(d.actualTime).padEnd(t)}  ${d.actual ?? '(nothing)'}`,
  ];
}
