/** Every subpath package.json exports resolves from dist/ (self-reference, as a user's `import 'synack/report'`). */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; exports: Record<string, string> };

test.each(Object.keys(pkg.exports))('import %s', (key) => {
  expect(key === '.' || key.startsWith('./'), `${key}: export keys start with "./"`).toBe(true);
  const spec = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(spec)}); if (Object.keys(m).length === 0) process.exit(3);`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
});
