/**
 * The lexer cuts scripts as packetdrill's flex rules do, and never throws: errors are values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lex, parseScript, type Token } from '../../src/script/index.js';
import { CONFORMANCE_SCRIPTS, readConformanceScript } from '../conformance.js';

function kinds(text: string): string[] {
  return lex(text, 't.pkt')
    .tokens.filter((t) => t.kind !== 'eof')
    .map((t) => `${t.kind}:${t.text}`);
}

describe('lex', () => {
  it('cuts a blocking call: +0...0.200 is +, 0, ..., 0.200 (longest match, earlier rule on a tie)', () => {
    expect(kinds('+0...0.200 accept(3, ..., ...) = 4')).toEqual([
      'punct:+', 'integer:0', 'ellipsis:...', 'float:0.200', 'word:accept', 'punct:(', 'integer:3', 'punct:,',
      'ellipsis:...', 'punct:,', 'ellipsis:...', 'punct:)', 'punct:=', 'integer:4',
    ]);
    expect(kinds('0.100...0.200')).toEqual(['float:0.100', 'ellipsis:...', 'float:0.200']);
    expect(kinds('+.1...0.011')).toEqual(['punct:+', 'float:.1', 'ellipsis:...', 'float:0.011']);
    expect(kinds('+0~+.04')).toEqual(['punct:+', 'integer:0', 'punct:~', 'punct:+', 'float:.04']);
  });

  it('cuts packet lines: flags are a word and a dot, ranges are integers and punctuation', () => {
    expect(kinds('> S. 1:1001(1000) ack 1 <mss 1460,TS val 100 ecr 0>')).toEqual([
      'punct:>', 'word:S', 'punct:.', 'integer:1', 'punct::', 'integer:1001', 'punct:(', 'integer:1000', 'punct:)',
      'word:ack', 'integer:1', 'punct:<', 'word:mss', 'integer:1460', 'punct:,', 'word:TS', 'word:val', 'integer:100',
      'word:ecr', 'integer:0', 'punct:>',
    ]);
    expect(kinds('< - 1:1001(1000)')[1]).toBe('punct:-');
  });

  it('knows numbers, words, addresses and strings', () => {
    expect(kinds('= -1 0x02 0x 1e5 192.0.2.1 "a\\"b" FP.')).toEqual([
      'punct:=', 'integer:-1', 'hex:0x02', 'word:0x', 'word:1e5', 'ipv4:192.0.2.1', 'string:"a\\"b"', 'word:FP', 'punct:.',
    ]);
    const s = lex('"x\\"y"', 't').tokens[0] as Token;
    expect(s.value).toBe('x\\"y');
  });

  it('reads options, their raw values, and quoted values', () => {
    const t = lex('--ip_version=ipv4\n--remote_ip="192.0.2.2"\n--local_ip=fd3d::1\n--dry_run', 't').tokens;
    expect(t.slice(0, 4).map((x) => [x.kind, x.value, x.optionValue])).toEqual([
      ['option', 'ip_version', 'ipv4'],
      ['option', 'remote_ip', '192.0.2.2'],
      ['option', 'local_ip', 'fd3d::1'],
      ['option', 'dry_run', null],
    ]);
  });

  it('keeps code, commands and comments, with positions', () => {
    const r = lex('+0 %{ assert tcpi_state == TCPI_LISTEN }%  // done\n/* a\nb */ `sysctl -w x=1`', 'f.pkt');
    expect(r.errors).toEqual([]);
    const [, , code, cmd, eof] = r.tokens;
    expect([code?.kind, code?.value, code?.line, code?.column]).toEqual(['code', 'assert tcpi_state == TCPI_LISTEN', 1, 4]);
    expect([cmd?.kind, cmd?.value, cmd?.line, cmd?.column, cmd?.newlineBefore]).toEqual(['backquote', 'sysctl -w x=1', 3, 6, true]);
    expect(eof?.kind).toBe('eof');
    expect(r.comments).toEqual([
      { kind: 'line', text: ' done', loc: { file: 'f.pkt', line: 1, column: 44 } },
      { kind: 'block', text: ' a\nb ', loc: { file: 'f.pkt', line: 2, column: 1 } },
    ]);
  });

  it('reads nplab #ifdef NAME and #endif', () => {
    expect(kinds('#ifdef FreeBSD\n+0 close(3) = 0\n#endif')).toEqual([
      'ifdef:#ifdef FreeBSD', 'punct:+', 'integer:0', 'word:close', 'punct:(', 'integer:3', 'punct:)', 'punct:=', 'integer:0', 'endif:#endif',
    ]);
    expect(lex('#ifdef\n', 't').errors.map((e) => e.message)).toEqual(['#ifdef must be followed by a name']);
  });

  it('treats CR as whitespace, so CRLF scripts read like LF ones', () => {
    expect(kinds('0 close(3) = 0\r\n+0 close(4) = 0\r\n')).toEqual(kinds('0 close(3) = 0\n+0 close(4) = 0\n'));
  });

  it('reports unterminated strings, commands, code blocks and comments as values', () => {
    expect(lex('"abc', 't').errors.map((e) => e.message)).toEqual(["unterminated string: expected '\"' before end of file"]);
    expect(lex('x `abc', 't').errors.map((e) => [e.loc.column, e.message])).toEqual([[3, "unterminated shell command: expected '`' before end of file"]]);
    expect(lex('%{ a', 't').errors.length).toBe(1);
    expect(lex('/* a', 't').errors.length).toBe(1);
  });
});

/** Checks that hold for any input: the token stream is a partition of the non-blank text. */
function wellFormed(text: string): void {
  const r = lex(text, 'fuzz.pkt');
  const toks = r.tokens;
  expect(toks[toks.length - 1]?.kind).toBe('eof');
  let last = 0;
  for (const t of toks) {
    expect(t.offset).toBeGreaterThanOrEqual(last);
    expect(t.end).toBeGreaterThanOrEqual(t.offset);
    expect(t.text).toBe(text.slice(t.offset, t.end));
    if (t.kind !== 'eof') expect(t.end).toBeGreaterThan(t.offset);
    last = t.end;
  }
  for (const e of r.errors) expect(e.loc.line).toBeGreaterThanOrEqual(1);
}

// Fragments of the language, so random inputs reach deep into the grammar instead of failing at once.
const fragment = fc.constantFrom(
  '0', '+0', '+.1', '0.100', '...', '*', '~', '<', '>', 'S', 'S.', '.', 'F.', 'R', '-', '1:1(0)', '0:0(0)', 'ack', 'win',
  'urg', '1', '32792', '<mss 1460,nop,wscale 7>', '<...>', 'socket(..., SOCK_STREAM, IPPROTO_TCP)', '=', '-1', 'ECONNRESET',
  '(Connection reset)', '[1]', '{onoff=1, linger=0}', '`sysctl -w net.inet.tcp.rfc1323=1`', '%{ assert tcpi_state == TCPI_LISTEN }%',
  '#ifdef FreeBSD', '#endif', '--tolerance_usecs=1000', '// c', '/* c */', '\n', ' ', '"s"', '`', '%{', '}%', '/*', '"', 'sack 1:2',
  'TS val 1 ecr 0', '!', 'close(3)', ',', '(', ')', '[', ']', '{', '}', '|', 'icmp', 'FO', '0x1f',
);
const soup = fc.array(fragment, { maxLength: 40 }).map((a) => a.join(' '));

describe('lex and parse never throw', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        wellFormed(text);
        parseScript(text, 'fuzz.pkt');
      }),
      { numRuns: 2000 },
    );
  });

  it('on token soups of the language', () => {
    fc.assert(
      fc.property(soup, (text) => {
        wellFormed(text);
        const r = parseScript(text, 'fuzz.pkt');
        if (!r.ok) for (const e of r.errors) expect(e.loc.file).toBe('fuzz.pkt');
      }),
      { numRuns: 2000 },
    );
  });

  it('on damaged copies of the shared scripts (every error has a real position)', () => {
    const texts = CONFORMANCE_SCRIPTS.map(readConformanceScript);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: texts.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          let text = texts[which] as string;
          for (const [at, del, ins] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + ins + text.slice(i + del);
          }
          wellFormed(text);
          const r = parseScript(text, 'damaged.pkt');
          const lines = text.split('\n').length;
          if (!r.ok) {
            expect(r.errors.length).toBeGreaterThan(0);
            for (const e of r.errors) {
              expect(e.loc.line).toBeGreaterThanOrEqual(1);
              expect(e.loc.line).toBeLessThanOrEqual(lines);
              expect(e.loc.column).toBeGreaterThanOrEqual(1);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
