/**
 * The packetdrill lexer, as google/packetdrill's flex rules cut a script into tokens (longest match, the
 * earlier rule on a tie), plus nplab's `#ifdef NAME` / `#endif`. Whitespace and newlines separate tokens
 * but are not tokens: the language is not line-oriented, although the parser uses `newlineBefore` to
 * give line-shaped error messages. Comments are returned on the side. Errors are values: `lex` never
 * throws, whatever the input.
 *
 * Deliberate differences from flex: `\r`, `\f` and `\v` count as whitespace (CRLF scripts work); an option
 * value after `--name=` is read raw up to whitespace (so `--local_ip=fd3d::1` needs no IPv6 token); a `//`
 * comment may end at end of file without a newline.
 */
import type { Comment, Loc, ScriptError } from './ast.js';

export type TokenKind =
  | 'integer' // [-]?[0-9]+
  | 'hex' // 0x[0-9a-fA-F]+
  | 'float' // [-]?[0-9]*.[0-9]+
  | 'ipv4' // 1.2.3.4
  | 'word' // [a-zA-Z0-9_]+
  | 'option' // --name, value after '=' in `value`
  | 'string' // "..."
  | 'backquote' // `...`
  | 'code' // %{ ... }%
  | 'ellipsis' // ...
  | 'punct' // any other single character
  | 'ifdef' // #ifdef NAME (name in `value`)
  | 'endif' // #endif
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the whole token. */
  readonly text: string;
  /**
   * The payload: the inside of a string, backquote or code block (code trimmed of spaces and tabs as
   * packetdrill does), the name of an option or #ifdef. Same as `text` for other tokens.
   */
  readonly value: string;
  /** Option tokens: the raw text after `=`, quotes removed; null when there was no `=`. */
  readonly optionValue: string | null;
  /** Offset of `value` in the source (for locating things inside backquotes and code blocks). */
  readonly valueOffset: number;
  readonly offset: number;
  /** Offset just past the token. */
  readonly end: number;
  readonly line: number;
  readonly column: number;
  /** A newline separates this token from the previous one (or this is the first token). */
  readonly newlineBefore: boolean;
  /** Whitespace or a comment separates this token from the previous one. */
  readonly spaceBefore: boolean;
}

export interface LexResult {
  /** Always ends with one 'eof' token. */
  readonly tokens: readonly Token[];
  readonly comments: readonly Comment[];
  readonly errors: readonly ScriptError[];
}

/** Maps offsets to 1-based line/column for one source text. */
export class SourceMap {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  loc(offset: number): Loc {
    // Binary search for the last line start <= offset.
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, column: offset - (this.lineStarts[lo] as number) + 1 };
  }
}

const WORD_CHAR = /[A-Za-z0-9_]/;
// Sticky patterns for the longest-match competition at one position.
const RE_INTEGER = /-?[0-9]+/y;
const RE_FLOAT = /-?[0-9]*\.[0-9]+/y;
const RE_HEX = /0x[0-9a-fA-F]+/y;
const RE_WORD = /[A-Za-z0-9_]+/y;
const RE_IPV4 = /[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/y;
const RE_OPTION = /--[A-Za-z0-9_]+/y;
const RE_IFDEF_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

function matchLen(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  const m = re.exec(text);
  return m === null ? 0 : m[0].length;
}

function isSpace(c: number): boolean {
  // space, \t, \n, \v, \f, \r
  return c === 32 || (c >= 9 && c <= 13);
}

/** Cut `text` into tokens. Never throws. */
export function lex(text: string, file: string): LexResult {
  const map = new SourceMap(text, file);
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  const errors: ScriptError[] = [];
  let i = 0;
  let sawNewline = true;
  let sawSpace = true;

  const push = (kind: TokenKind, start: number, end: number, value: string, valueOffset: number, optionValue: string | null = null): void => {
    const { line, column } = map.loc(start);
    tokens.push({
      kind,
      text: text.slice(start, end),
      value,
      optionValue,
      valueOffset,
      offset: start,
      end,
      line,
      column,
      newlineBefore: sawNewline,
      spaceBefore: sawSpace,
    });
    sawNewline = false;
    sawSpace = false;
  };

  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      if (c === 10) sawNewline = true;
      sawSpace = true;
      i++;
      continue;
    }
    const ch = text[i] as string;
    const next = text[i + 1];

    // Comments.
    if (ch === '/' && next === '/') {
      let j = text.indexOf('\n', i + 2);
      if (j < 0) j = n;
      comments.push({ kind: 'line', text: text.slice(i + 2, j), loc: map.loc(i) });
      sawSpace = true;
      i = j;
      continue;
    }
    if (ch === '/' && next === '*') {
      const j = text.indexOf('*/', i + 2);
      if (j < 0) {
        errors.push({ loc: map.loc(i), message: "unterminated comment: expected '*/' before end of file" });
        i = n;
        break;
      }
      const body = text.slice(i + 2, j);
      comments.push({ kind: 'block', text: body, loc: map.loc(i) });
      if (body.includes('\n')) sawNewline = true;
      sawSpace = true;
      i = j + 2;
      continue;
    }

    // %{ python }%
    if (ch === '%' && next === '{') {
      const j = text.indexOf('}%', i + 2);
      if (j < 0) {
        errors.push({ loc: map.loc(i), message: "unterminated code block: expected '}%' before end of file" });
        i = n;
        break;
      }
      let a = i + 2;
      let b = j;
      while (a < b && (text[a] === ' ' || text[a] === '\t')) a++;
      while (b > a && (text[b - 1] === ' ' || text[b - 1] === '\t')) b--;
      push('code', i, j + 2, text.slice(a, b), a);
      i = j + 2;
      continue;
    }

    // Quoted strings and backquoted commands: "(\\.|[^"])*" and `(\\.|[^`])*`.
    if (ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < n && text[j] !== ch) j += text[j] === '\\' ? 2 : 1;
      if (j >= n) {
        const what = ch === '"' ? 'string' : 'shell command';
        errors.push({ loc: map.loc(i), message: `unterminated ${what}: expected '${ch}' before end of file` });
        i = n;
        break;
      }
      push(ch === '"' ? 'string' : 'backquote', i, j + 1, text.slice(i + 1, j), i + 1);
      i = j + 1;
      continue;
    }

    // nplab #ifdef NAME / #endif.
    if (ch === '#') {
      if (text.startsWith('#ifdef', i) && (i + 6 >= n || isSpace(text.charCodeAt(i + 6)))) {
        let j = i + 6;
        while (j < n && isSpace(text.charCodeAt(j))) j++;
        const len = matchLen(RE_IFDEF_NAME, text, j);
        if (len === 0) {
          errors.push({ loc: map.loc(i), message: '#ifdef must be followed by a name' });
          i = j;
          continue;
        }
        push('ifdef', i, j + len, text.slice(j, j + len), j);
        i = j + len;
        continue;
      }
      if (text.startsWith('#endif', i) && (i + 6 >= n || !WORD_CHAR.test(text[i + 6] as string))) {
        push('endif', i, i + 6, '#endif', i);
        i += 6;
        continue;
      }
    }

    // --option[=value]
    if (ch === '-' && next === '-') {
      const len = matchLen(RE_OPTION, text, i);
      if (len > 0) {
        const nameEnd = i + len;
        let end = nameEnd;
        let value: string | null = null;
        if (text[nameEnd] === '=') {
          let j = nameEnd + 1;
          if (text[j] === '"') {
            const close = text.indexOf('"', j + 1);
            const stop = close < 0 ? n : close;
            value = text.slice(j + 1, stop);
            j = close < 0 ? n : close + 1;
            if (close < 0) errors.push({ loc: map.loc(nameEnd + 1), message: "unterminated string: expected '\"' before end of file" });
          } else {
            while (j < n && !isSpace(text.charCodeAt(j))) j++;
            value = text.slice(nameEnd + 1, j);
          }
          end = j;
        }
        push('option', i, end, text.slice(i + 2, nameEnd), i + 2, value);
        i = end;
        continue;
      }
    }

    if (ch === '.' && next === '.' && text[i + 2] === '.') {
      push('ellipsis', i, i + 3, '...', i);
      i += 3;
      continue;
    }

    // Numbers and words: the longest of the flex rules wins; on a tie the earlier rule (float, integer,
    // hex, word, ipv4 in lexer.l order).
    if (WORD_CHAR.test(ch) || ch === '.' || ch === '-') {
      const candidates: [TokenKind, number][] = [
        ['float', matchLen(RE_FLOAT, text, i)],
        ['integer', matchLen(RE_INTEGER, text, i)],
        ['hex', matchLen(RE_HEX, text, i)],
        ['word', matchLen(RE_WORD, text, i)],
        ['ipv4', matchLen(RE_IPV4, text, i)],
      ];
      let best: [TokenKind, number] = ['punct', 0];
      for (const cand of candidates) if (cand[1] > best[1]) best = cand;
      if (best[1] > 0) {
        const end = i + best[1];
        push(best[0], i, end, text.slice(i, end), i);
        i = end;
        continue;
      }
    }

    // Any other character is a token of its own. Take a whole surrogate pair so columns stay sane.
    const cp = text.codePointAt(i) as number;
    const len = cp > 0xffff ? 2 : 1;
    push('punct', i, i + len, text.slice(i, i + len), i);
    i += len;
  }

  push('eof', n, n, '', n);
  return { tokens, comments, errors };
}
