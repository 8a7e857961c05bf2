/**
 * Test-only: a tiny XML well-formedness checker and tree builder, enough for the SVG that
 * src/report/ladder-svg.ts writes: elements, attributes in double or single quotes, text, comments,
 * the five predefined entities and numeric character references. Anything else is an error.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME = /^[A-Za-z_][\w.:-]*/;

function decodeEntities(s: string, where: number): string {
  return s.replace(/&([^;&<]*);?/g, (m, body: string) => {
    if (!m.endsWith(';')) throw new Error(`bare & at ${where}`);
    switch (body) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const n = /^#x([0-9a-fA-F]+)$/.exec(body) ?? /^#([0-9]+)$/.exec(body);
        if (n === null) throw new Error(`unknown entity &${body}; at ${where}`);
        return String.fromCodePoint(parseInt(n[1] as string, body.startsWith('#x') ? 16 : 10));
      }
    }
  });
}

/** Parses `src` as one XML document; throws with a position on the first well-formedness error. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const text = (t: string, at: number): void => {
    if (t === '') return;
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      if (t.trim() !== '') throw new Error(`text outside the root element at ${at}`);
      return;
    }
    if (t.includes('>') && /]]>/.test(t)) throw new Error(`"]]>" in text at ${at}`);
    parent.children.push(decodeEntities(t, at));
  };
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    if (lt < 0) {
      text(src.slice(i), i);
      break;
    }
    text(src.slice(i, lt), i);
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4);
      if (end < 0) throw new Error(`unterminated comment at ${lt}`);
      i = end + 3;
      continue;
    }
    if (src.startsWith('<?', lt)) {
      if (root !== null || stack.length > 0) throw new Error(`processing instruction inside the document at ${lt}`);
      const end = src.indexOf('?>', lt + 2);
      if (end < 0) throw new Error(`unterminated <? at ${lt}`);
      i = end + 2;
      continue;
    }
    if (src.startsWith('</', lt)) {
      const m = NAME.exec(src.slice(lt + 2));
      if (m === null) throw new Error(`bad end tag at ${lt}`);
      const after = lt + 2 + m[0].length;
      const gt = src.indexOf('>', after);
      if (gt < 0 || src.slice(after, gt).trim() !== '') throw new Error(`bad end tag at ${lt}`);
      const open = stack.pop();
      if (open === undefined || open.name !== m[0]) throw new Error(`</${m[0]}> at ${lt} does not close <${open?.name ?? '(nothing)'}>`);
      i = gt + 1;
      continue;
    }
    const m = NAME.exec(src.slice(lt + 1));
    if (m === null) throw new Error(`stray < at ${lt}`);
    const el: XmlElement = { name: m[0], attrs: {}, children: [] };
    let p = lt + 1 + m[0].length;
    for (;;) {
      const ws = /^\s*/.exec(src.slice(p)) as RegExpExecArray;
      p += ws[0].length;
      if (src.startsWith('/>', p) || src[p] === '>') break;
      if (ws[0].length === 0) throw new Error(`attribute without a space before it at ${p}`);
      const a = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(src.slice(p));
      if (a === null) throw new Error(`bad attribute at ${p} in <${el.name}>`);
      const name = a[1] as string;
      if (name in el.attrs) throw new Error(`duplicate attribute ${name} at ${p}`);
      el.attrs[name] = decodeEntities(a[3] ?? a[4] ?? '', p);
      p += a[0].length;
    }
    const parent = stack[stack.length - 1];
    if (parent !== undefined) parent.children.push(el);
    else if (root === null) root = el;
    else throw new Error(`second root element <${el.name}> at ${lt}`);
    if (src.startsWith('/>', p)) i = p + 2;
    else {
      stack.push(el);
      i = p + 1;
    }
  }
  if (stack.length > 0) throw new Error(`<${(stack[stack.length - 1] as XmlElement).name}> never closed`);
  if (root === null) throw new Error('no root element');
  return root;
}

/** Every element below `el` (depth first, itself included). */
export function allElements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [el];
  for (const c of el.children) if (typeof c !== 'string') out.push(...allElements(c));
  return out;
}

/** The text content of an element. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}
