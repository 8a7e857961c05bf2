/**
 * tshark as the reference reader: fields per frame and the raw bytes of every frame. Tests that use it
 * fail with a clear message when tshark is not installed (Debian: apt-get install -y tshark).
 */
import { execFileSync } from 'node:child_process';

function run(args: string[]): string {
  try {
    return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('tshark is not installed: the capture tests compare with it (apt-get install -y tshark)');
    throw new Error(`tshark ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

/** One row of strings per frame, in the order of `fields` (empty string when tshark has no value). */
export function tsharkFields(file: string, fields: readonly string[]): string[][] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const out = run(args);
  const rows = out.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  return rows.map((r) => {
    const cols = r.split('\t');
    while (cols.length < fields.length) cols.push('');
    return cols;
  });
}

/**
 * Every frame's bytes as a hex string, from `--hexdump frames --hexdump noascii`: each frame's dump
 * is lines of `offset  xx xx ...` followed by a blank line.
 */
export function tsharkFrameHex(file: string): string[] {
  const out = run(['-n', '-r', file, '-Q', '--hexdump', 'frames', '--hexdump', 'noascii']);
  const frames: string[] = [];
  let cur = '';
  let open = false;
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{4,})  ((?:[0-9a-f]{2} ?)+)/.exec(line);
    if (m) {
      if (parseInt(m[1] as string, 16) === 0 && open) {
        frames.push(cur);
        cur = '';
      }
      open = true;
      cur += (m[2] as string).replace(/ /g, '');
    } else if (line.trim() === '' && open) {
      frames.push(cur);
      cur = '';
      open = false;
    }
  }
  if (open) frames.push(cur);
  return frames;
}
