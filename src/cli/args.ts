/**
 * A small, strict argument parser: every command declares its options, anything else is a usage error
 * (exit 2) that names the offending word. No dependency: the CLI surface is small and its errors must read well.
 */
export interface OptionSpec {
  /** Long name without dashes: `json` for `--json`. */
  readonly name: string;
  /** One-letter alias without the dash: `i` for `-i`. */
  readonly short?: string;
  /** 'flag' takes no value; 'string' takes one; 'list' may repeat (or take several values until the next option). */
  readonly kind: 'flag' | 'string' | 'list';
  readonly help: string;
  readonly valueName?: string;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Set<string>;
  readonly values: Map<string, string>;
  readonly lists: Map<string, string[]>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const out: ParsedArgs = { positionals: [], flags: new Set(), values: new Map(), lists: new Map() };
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (onlyPositionals || word === '-' || !word.startsWith('-')) {
      out.positionals.push(word);
      continue;
    }
    if (word === '--') {
      onlyPositionals = true;
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let spec: OptionSpec | undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      name = eq >= 0 ? word.slice(2, eq) : word.slice(2);
      inline = eq >= 0 ? word.slice(eq + 1) : undefined;
      spec = byLong.get(name);
    } else {
      name = word.slice(1, 2);
      inline = word.length > 2 ? word.slice(2) : undefined;
      spec = byShort.get(name);
    }
    if (!spec) throw new UsageError(`unknown option ${word}`);
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`option --${spec.name} takes no value`);
      out.flags.add(spec.name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) {
        throw new UsageError(`option --${spec.name} needs a value (${spec.valueName ?? 'VALUE'})`);
      }
      value = next;
      i++;
    }
    if (spec.kind === 'string') {
      if (out.values.has(spec.name)) throw new UsageError(`option --${spec.name} given twice`);
      out.values.set(spec.name, value);
    } else {
      const list = out.lists.get(spec.name) ?? [];
      list.push(value);
      // `--listen 80 25`: further bare words belong to the list until the next option.
      while (argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('-')) list.push(argv[++i] as string);
      out.lists.set(spec.name, list);
    }
  }
  return out;
}

export function formatOptions(specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'flag' ? '' : ` ${s.valueName ?? 'VALUE'}`}`;
    return [left, s.help] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, h]) => `  ${l.padEnd(width)}${h}`).join('\n');
}
