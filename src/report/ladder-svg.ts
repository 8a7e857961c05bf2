/**
 * The ladder diagram of ladder.ts drawn as one self-contained SVG document: the two endpoints in boxes
 * on top with their lifelines below, each segment a slanted arrow (blue client to server, green server
 * to client, red for a RST, dashed for a bad checksum) labelled like the text diagram, frame number and
 * time in a left column, state changes as boxes against the lifeline where they happened. No scripts,
 * no external fonts or images; `<title>` and `<desc>` name it for screen readers.
 */
import type { ConnLabel, ConnSegment, ConnStateNote } from './conn-events.js';
import { buildLadder } from './ladder.js';
import type { LadderOptions } from './ladder.js';

/** Pixels per character of the monospace fonts below (12 px titles, 11 px labels; DejaVu Sans Mono ≈ 0.6 em). */
const CW_TITLE = 7.4;
const CW_LABEL = 6.6;
const GUTTER = 140;
const TOP = 16;
const ROW_SEGMENT = 38;
const ROW_STATE = 28;
/** How far an arrow drops between its two ends. */
const SLANT = 14;
const COLORS = { toServer: '#1f5fbf', toClient: '#2e7d32', rst: '#c62828' } as const;

/** Escapes text for SVG character data and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/** Splits "addr:port fd 3 (listener fd 3)" into the address and the descriptor part, for two-line titles. */
function titleLines(title: string): string[] {
  const i = title.indexOf(' fd ');
  return i < 0 ? [title] : [title.slice(0, i), title.slice(i + 1)];
}

function num(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** The diagram as an SVG document (a string starting with `<svg`). */
export function ladderSvg(label: ConnLabel, segments: readonly ConnSegment[], states: readonly ConnStateNote[], opts: LadderOptions = {}): string {
  const m = buildLadder(label, segments, states, opts);
  const clientLines = titleLines(m.clientTitle);
  const serverLines = titleLines(m.serverTitle);
  const boxW = (lines: string[]): number => Math.max(...lines.map((l) => l.length)) * CW_TITLE + 20;
  const clientBox = boxW(clientLines);
  const serverBox = boxW(serverLines);
  const boxH = Math.max(clientLines.length, serverLines.length) * 16 + 12;

  let longest = 0;
  let longestState = 0;
  for (const r of m.rows) {
    if (r.kind === 'segment') longest = Math.max(longest, r.label.length);
    else longestState = Math.max(longestState, (r.client ?? '').length + (r.server ?? '').length);
  }
  const clientX = GUTTER + Math.max(clientBox / 2, 60) + 10;
  const span = Math.max(longest * CW_LABEL + 40, longestState * CW_LABEL + 80, (clientBox + serverBox) / 2 + 40, 420);
  const serverX = clientX + span;
  const width = Math.ceil(serverX + Math.max(serverBox / 2, 60) + 20);

  const body: string[] = [];
  const headerBottom = TOP + boxH;
  let y = headerBottom + 24;
  for (const r of m.rows) {
    if (r.kind === 'state') {
      const h = 20;
      const top = y + (ROW_STATE - h) / 2;
      if (r.client !== null) body.push(stateBox(clientX + 8, top, r.client, 'start'));
      if (r.server !== null) body.push(stateBox(serverX - 8, top, r.server, 'end'));
      y += ROW_STATE;
      continue;
    }
    const x1 = r.fromClient ? clientX : serverX;
    const x2 = r.fromClient ? serverX - 2 : clientX + 2;
    const y1 = y + 17;
    const y2 = y1 + SLANT;
    const kind = r.rst ? 'rst' : r.fromClient ? 'toServer' : 'toClient';
    const dash = r.badChecksum ? ' stroke-dasharray="6 4"' : '';
    body.push(
      `<g class="seg"><text class="gut" x="56" y="${num(y1 + 4)}" text-anchor="end">${r.frame}</text>` +
        `<text class="gut" x="${GUTTER - 10}" y="${num(y1 + 4)}" text-anchor="end">${r.time}</text>` +
        `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="${COLORS[kind]}" stroke-width="1.6"${dash} marker-end="url(#ah-${kind})"/>` +
        `<text class="lbl" x="${num((clientX + serverX) / 2)}" y="${num(y1 - 5)}" text-anchor="middle" fill="${COLORS[kind]}">${escapeXml(r.label)}</text></g>`,
    );
    y += ROW_SEGMENT;
  }
  if (m.omitted > 0) {
    body.push(`<text class="gut" x="${num(clientX)}" y="${num(y + 14)}">… ${m.omitted} more segment${m.omitted === 1 ? '' : 's'} not shown</text>`);
    y += 24;
  }
  const height = Math.ceil(y + 16);

  const header = [
    titleBox(clientX, clientBox, boxH, clientLines),
    titleBox(serverX, serverBox, boxH, serverLines),
    `<line class="life" x1="${num(clientX)}" y1="${headerBottom}" x2="${num(clientX)}" y2="${height - 8}"/>`,
    `<line class="life" x1="${num(serverX)}" y1="${headerBottom}" x2="${num(serverX)}" y2="${height - 8}"/>`,
    `<text class="gut" x="56" y="${headerBottom + 14}" text-anchor="end">frame</text>`,
    `<text class="gut" x="${GUTTER - 10}" y="${headerBottom + 14}" text-anchor="end">time (s)</text>`,
  ];
  const markers = (Object.keys(COLORS) as (keyof typeof COLORS)[])
    .map((k) => `<marker id="ah-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${COLORS[k]}"/></marker>`)
    .join('');
  const title = `TCP ladder diagram: ${m.clientTitle} and ${m.serverTitle}`;
  const segCount = m.rows.filter((r) => r.kind === 'segment').length;
  const desc = `${segCount} segment${segCount === 1 ? '' : 's'} between the client (left) and the server (right), with the state changes at each end.`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="ladder-title ladder-desc">`,
    `<title id="ladder-title">${escapeXml(title)}</title>`,
    `<desc id="ladder-desc">${escapeXml(desc)}</desc>`,
    `<defs>${markers}</defs>`,
    '<style>text{font-family:"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace}' +
      '.ttl{font-size:12px;fill:#111}.lbl{font-size:11px}.gut{font-size:11px;fill:#555}.st{font-size:11px;fill:#5d4600}' +
      '.life{stroke:#888;stroke-width:1;stroke-dasharray:4 3}</style>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...header,
    ...body,
    '</svg>',
  ].join('\n');
}

function titleBox(cx: number, w: number, h: number, lines: string[]): string {
  const x = cx - w / 2;
  const texts = lines.map((l, i) => `<text class="ttl" x="${num(cx)}" y="${num(TOP + 20 + i * 16)}" text-anchor="middle">${escapeXml(l)}</text>`).join('');
  return `<rect x="${num(x)}" y="${TOP}" width="${num(w)}" height="${h}" rx="4" fill="#eef3fb" stroke="#5a7bb5"/>${texts}`;
}

function stateBox(x: number, top: number, text: string, anchor: 'start' | 'end'): string {
  const w = text.length * CW_LABEL + 12;
  const left = anchor === 'start' ? x : x - w;
  return (
    `<g class="state"><rect x="${num(left)}" y="${num(top)}" width="${num(w)}" height="20" rx="10" fill="#fff3c4" stroke="#c9a400"/>` +
    `<text class="st" x="${num(left + w / 2)}" y="${num(top + 14)}" text-anchor="middle">${escapeXml(text)}</text></g>`
  );
}
