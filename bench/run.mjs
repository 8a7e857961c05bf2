#!/usr/bin/env node
/**
 * `npm run bench`: issue 7's workload (tools/gen-workload.mjs) at 10k and 100k connections (1M with
 * --large), each capture generated once and cached in .cache/bench/, then every tool below run on the
 * same file, each in its own process, timed by wall clock, its peak RSS from /usr/bin/time (%M, the
 * child's ru_maxrss). Before each timed run a tool also runs on an empty capture: that time (process
 * start, loading dissectors, the JIT) is its "startup", and "net frames/s" divides the frames by wall
 * minus startup, so sizes compare fairly (issue 7 wants frames/s at 10k, 100k and 1M within 20%); it
 * shows "-" when the net time is under a quarter of the wall time, too small to tell from noise. Prints
 * one table per size and writes everything to .cache/bench/results-<date>.json.
 *
 *   npm run bench -- [--large] [--runs N] [--peers] [--sizes 10000,100000] [--only synack,bare] [--regen]
 *
 *   --large        add the 1,000,000-connection capture (11.05 M frames, 1.22 GB)
 *   --runs N       run each tool N times and report medians (default 1; the issue's figures are medians of 3)
 *   --peers        install missing peer tools first (tcptrace, with apt-get), saying so
 *   --sizes LIST   connection counts instead of the defaults (k and M suffixes allowed: 10k,1M)
 *   --only LIST    only these tools, by id: synack, replay, replay-w2, tshark, tcptrace, bare
 *   --regen        generate the captures again even when cached
 *
 * Ratios: "× synack" is the tool's wall time over synack's (the last `synack: true` entry of TOOLS, so
 * adding replay after `frames` makes replay the reference); "× bare" over the bare read loop's. The
 * JSON has the same ratios on net times too.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(ROOT, '.cache', 'bench');
/** Each child's stdout, stderr and /usr/bin/time output (overwritten by the next run of the same tool). */
const SCRATCH = path.join(CACHE, 'last-run');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const GEN = path.join(ROOT, 'tools', 'gen-workload.mjs');
const BARE = path.join(ROOT, 'bench', 'lib', 'bare-read.mjs');
const TIME = '/usr/bin/time';
const NODE = process.execPath;

const DEFAULT_SIZES = [10_000, 100_000];
const LARGE = 1_000_000;
/** Generator parameters other than the size: the issue's workload. */
const WORKLOAD = { concurrency: 1000, refused: 0.02, retransmit: 0.01, seed: 1 };

/** Occurrences of `needle` in a file (tshark's table: one '<->' per conversation). */
function countInFile(file, needle) {
  const buf = fs.readFileSync(file);
  let n = 0;
  for (let at = buf.indexOf(needle); at !== -1; at = buf.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** The first 64 KiB of a file, as text. */
function head(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(1 << 16);
    return b.toString('utf8', 0, fs.readSync(fd, b, 0, b.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** The last 4 KiB of a file, as text. */
function tail(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const b = Buffer.alloc(Math.min(size, 4096));
    return b.toString('utf8', 0, fs.readSync(fd, b, 0, b.length, size - b.length));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The tools, in table order. `argv(file)` is the command; `check(out, err, meta)` reads its stdout and
 * stderr files and returns null when it saw the capture the generator says it wrote, else what is wrong.
 * `synack: true` marks synack's own entries; the last one is the reference for the "× synack" column.
 */
const TOOLS = [
  { id: 'synack', label: 'synack frames -q', synack: true, argv: (f) => [NODE, CLI, 'frames', f, '-q'], check: checkSynackFrames },
  { id: 'replay', label: 'synack replay -q', synack: true, argv: (f) => [NODE, CLI, 'replay', f, '-q'], check: checkSynackReplay },
  // Not marked `synack`: replay stays the reference, so "× synack" is this row's wall over one worker's.
  { id: 'replay-w2', label: 'synack replay -q --workers 2', argv: (f) => [NODE, CLI, 'replay', f, '-q', '--workers', '2'], check: checkSynackReplay },
  { id: 'tshark', label: 'tshark -q -z conv,tcp', needs: 'tshark', argv: (f) => ['tshark', '-n', '-q', '-r', f, '-z', 'conv,tcp'], check: checkTsharkConv },
  { id: 'tcptrace', label: 'tcptrace -n', needs: 'tcptrace', apt: 'tcptrace', argv: (f) => ['tcptrace', '-n', f], check: checkTcptrace },
  { id: 'bare', label: 'bare read loop', bare: true, argv: (f) => [NODE, BARE, f], check: checkBare },
];

function checkSynackFrames(out, err, meta) {
  const m = /^(\d+) frames, (\d+) TCP, (\d+) malformed, (\d+) bad TCP checksums/m.exec(tail(err));
  if (!m) return 'no summary line on stderr';
  if (Number(m[1]) !== meta.frames || Number(m[2]) !== meta.frames) return `${m[1]} frames (${m[2]} TCP), expected ${meta.frames}`;
  if (m[3] !== '0' || m[4] !== '0') return `${m[3]} malformed, ${m[4]} bad TCP checksums`;
  return null;
}

function checkSynackReplay(out, err, meta) {
  const m = /^(\d+) frames, (\d+) TCP, (\d+) connections, (\d+) malformed, (\d+) bad TCP checksums, (\d+) anomalies/m.exec(tail(err));
  if (!m) return 'no summary line on stderr';
  if (Number(m[1]) !== meta.frames || Number(m[2]) !== meta.frames) return `${m[1]} frames (${m[2]} TCP), expected ${meta.frames}`;
  if (Number(m[3]) !== meta.conversations) return `${m[3]} connections, expected ${meta.conversations}`;
  if (m[4] !== '0' || m[5] !== '0' || m[6] !== '0') return `${m[4]} malformed, ${m[5]} bad TCP checksums, ${m[6]} anomalies`;
  return null;
}

function checkTsharkConv(out, err, meta) {
  const n = countInFile(out, '<->');
  return n === meta.conversations ? null : `${n} conversations, expected ${meta.conversations}`;
}

function checkTcptrace(out, err, meta) {
  // The counts come first, then one numbered line per connection.
  const p = /(\d+) packets seen, (\d+) TCP packets traced/.exec(head(out));
  if (!p) return 'no "packets seen" line';
  if (Number(p[1]) !== meta.frames || Number(p[2]) !== meta.frames) return `${p[1]} packets seen, ${p[2]} traced, expected ${meta.frames}`;
  const numbered = [...tail(out).matchAll(/^\s*(\d+): /gm)];
  const n = numbered.length > 0 ? Number(numbered[numbered.length - 1][1]) : 0;
  return n === meta.conversations ? null : `${n} connections, expected ${meta.conversations}`;
}

function checkBare(out, err, meta) {
  const r = JSON.parse(fs.readFileSync(out, 'utf8'));
  return r.frames === meta.frames && r.bytes + 16 * r.frames + 24 === meta.bytes ? null : `${r.frames} frames / ${r.bytes} bytes, expected ${meta.frames}`;
}

// ---- arguments --------------------------------------------------------------------------------------

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`bad size ${JSON.stringify(s)}`);
  const mult = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[m[2]];
  return Math.round(Number(m[1]) * mult);
}

function parseArgs(argv) {
  const o = { sizes: [...DEFAULT_SIZES], runs: 1, peers: false, only: null, regen: false, large: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--large') o.large = true;
    else if (a === '--peers') o.peers = true;
    else if (a === '--regen') o.regen = true;
    else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--sizes') {
      o.sizes = String(argv[++i]).split(',').map(parseSize);
    } else if (a === '--only') o.only = String(argv[++i]).split(',');
    else if (a === '-h' || a === '--help') {
      const doc = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0];
      console.log(doc.replace(/^#!.*\n\/\*\*\n/, '').replace(/^ \* ?/gm, '').trimEnd());
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${JSON.stringify(a)} (--help)`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) {
    console.error('bench: --runs needs a whole number ≥ 1');
    process.exit(2);
  }
  if (o.large && !o.sizes.includes(LARGE)) o.sizes.push(LARGE);
  if (o.only) {
    for (const id of o.only) {
      if (!TOOLS.some((t) => t.id === id)) {
        console.error(`bench: unknown tool ${id} (have ${TOOLS.map((t) => t.id).join(', ')})`);
        process.exit(2);
      }
    }
  }
  return o;
}

// ---- running a child under /usr/bin/time -------------------------------------------------------------

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Runs argv with stdout and stderr to files; returns wall seconds (measured here, process start to
 * exit), peak RSS in MB (/usr/bin/time %M), the exit status and the output files.
 */
function measure(argv, tag) {
  const out = path.join(SCRATCH, `${tag}.stdout`);
  const err = path.join(SCRATCH, `${tag}.stderr`);
  const tm = path.join(SCRATCH, `${tag}.time`);
  const fo = fs.openSync(out, 'w');
  const fe = fs.openSync(err, 'w');
  const t0 = performance.now();
  const r = spawnSync(TIME, ['-f', '%M', '-o', tm, ...argv], { stdio: ['ignore', fo, fe], env: { ...process.env, CI: 'true' } });
  const wall = (performance.now() - t0) / 1000;
  fs.closeSync(fo);
  fs.closeSync(fe);
  if (r.error) throw r.error;
  // /usr/bin/time writes "Command exited with non-zero status N" before the format line on failure.
  const lines = fs.existsSync(tm) ? fs.readFileSync(tm, 'utf8').trim().split('\n') : [];
  const kb = Number(lines[lines.length - 1]);
  return { wall, rssMB: Number.isFinite(kb) ? kb / 1024 : NaN, status: r.status, out, err };
}

// ---- captures ---------------------------------------------------------------------------------------

function fileHash(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);
}

/** The cached capture for `n` connections, generated when missing, stale (the generator changed) or --regen. */
function ensureCapture(n, regen, quiet = false) {
  const name = `workload-${n}-c${WORKLOAD.concurrency}-r${WORKLOAD.refused}-x${WORKLOAD.retransmit}-s${WORKLOAD.seed}`;
  const file = path.join(CACHE, `${name}.pcap`);
  const metaFile = path.join(CACHE, `${name}.json`);
  const genHash = fileHash(GEN);
  if (!regen && fs.existsSync(file) && fs.existsSync(metaFile)) {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    if (meta.generatorHash === genHash && fs.statSync(file).size === meta.bytes) return { file, meta, generated: null };
  }
  const tmp = `${file}.tmp-${process.pid}`;
  if (!quiet) process.stdout.write(`generating ${path.relative(ROOT, file)} (${n} connections) ... `);
  const argv = [NODE, GEN, '--out', tmp, '--json', '--connections', String(n)];
  for (const [k, v] of Object.entries(WORKLOAD)) argv.push(`--${k}`, String(v));
  const r = measure(argv, `gen-${n}`);
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`generator failed (${r.status}): ${tail(r.err)}`);
  }
  const stats = JSON.parse(fs.readFileSync(r.out, 'utf8').trim().split('\n').pop());
  fs.renameSync(tmp, file);
  const meta = { ...stats, file, generatorHash: genHash, workload: { connections: n, ...WORKLOAD } };
  fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2) + '\n');
  const generated = { wallSec: r.wall, framesPerSec: stats.frames / r.wall, peakRssMB: r.rssMB };
  if (!quiet) console.log(`${stats.frames} frames, ${(stats.bytes / 1e6).toFixed(1)} MB in ${r.wall.toFixed(2)} s (${(generated.framesPerSec / 1e6).toFixed(2)} M frames/s, peak RSS ${r.rssMB.toFixed(0)} MB)`);
  return { file, meta, generated };
}

// ---- peers ------------------------------------------------------------------------------------------

function ensurePeers(tools, install) {
  for (const t of tools) {
    if (!t.needs || which(t.needs)) continue;
    if (!install || !t.apt) continue;
    console.log(`--peers: ${t.needs} is not installed; installing it: apt-get install -y ${t.apt}`);
    let r = spawnSync('apt-get', ['install', '-y', t.apt], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.log('--peers: install failed; running apt-get update and trying once more');
      spawnSync('apt-get', ['update'], { stdio: 'inherit' });
      r = spawnSync('apt-get', ['install', '-y', t.apt], { stdio: 'inherit' });
    }
    if (r.status !== 0) console.log(`--peers: could not install ${t.apt}; its row is skipped`);
  }
}

function toolVersion(t) {
  if (t.id === 'tshark') return spawnSync('tshark', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  if (t.id === 'tcptrace') {
    const r = spawnSync('tcptrace', ['-v'], { encoding: 'utf8' });
    return ((r.stdout || '') + (r.stderr || '')).split('\n').find((l) => /Version/i.test(l))?.trim() ?? 'tcptrace';
  }
  return `node ${process.version}`;
}

// ---- main -------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function fmtRate(r) {
  if (!Number.isFinite(r)) return '-';
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(0)} k`;
}

function printTable(size) {
  const rows = size.tools;
  const cols = ['tool', 'wall s', 'frames/s', 'startup s', 'net frames/s', 'peak RSS', '× synack', '× bare', 'check'];
  const last = cols.length - 1;
  const cells = rows.map((r) =>
    r.skipped
      ? [r.label, '-', '-', '-', '-', '-', '-', '-', r.skipped]
      : [
          r.label,
          r.wallSec.toFixed(3),
          fmtRate(r.framesPerSec),
          r.startupSec.toFixed(3),
          r.netSec >= r.wallSec / 4 ? fmtRate(r.netFramesPerSec) : '-',
          `${r.peakRssMB.toFixed(0)} MB`,
          Number.isFinite(r.vsSynack) ? r.vsSynack.toFixed(2) : '-',
          Number.isFinite(r.vsBare) ? r.vsBare.toFixed(1) : '-',
          r.error ?? 'ok',
        ],
  );
  const w = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 || i === last ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${w.map((n, i) => (i === 0 || i === last ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(CLI) || !fs.existsSync(path.join(ROOT, 'dist', 'wire', 'index.js'))) {
    console.error('bench: dist/ is not built; run npx tsc -p tsconfig.json (npm run bench builds first)');
    process.exit(2);
  }
  if (!fs.existsSync(TIME)) {
    console.error(`bench: ${TIME} is missing (Debian: apt-get install -y time); it measures each tool's peak RSS`);
    process.exit(2);
  }
  fs.mkdirSync(SCRATCH, { recursive: true });
  const tools = TOOLS.filter((t) => o.only === null || o.only.includes(t.id));
  ensurePeers(tools, o.peers);
  const versions = Object.fromEntries(tools.filter((t) => !t.needs || which(t.needs)).map((t) => [t.id, toolVersion(t)]));
  const results = {
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memGB: os.totalmem() / 2 ** 30, node: process.version, kernel: os.release() },
    versions,
    runs: o.runs,
    workload: WORKLOAD,
    sizes: [],
  };

  // A capture with no frames: a tool's time on it is its fixed cost.
  const empty = ensureCapture(0, o.regen, true);

  for (const n of o.sizes) {
    const cap = ensureCapture(n, o.regen);
    const meta = cap.meta;
    // Warm the page cache so the first tool does not pay for the disk alone.
    spawnSync(NODE, [BARE, cap.file], { stdio: 'ignore' });
    const walls = new Map(tools.map((t) => [t.id, []]));
    const startups = new Map(tools.map((t) => [t.id, []]));
    const rss = new Map(tools.map((t) => [t.id, []]));
    const errors = new Map();
    const skipped = new Map();
    for (const t of tools) {
      if (t.needs && !which(t.needs)) skipped.set(t.id, `${t.needs} not installed${t.apt ? ' (--peers installs it)' : ''}`);
    }
    // Runs interleave the tools, so a slow spell of the machine spreads over all of them.
    for (let run = 0; run < o.runs; run++) {
      for (const t of tools) {
        if (skipped.has(t.id)) continue;
        if (process.stdout.isTTY) process.stdout.write(`\r${n} connections: run ${run + 1}/${o.runs} ${t.label} ...`.padEnd(78));
        startups.get(t.id).push(measure(t.argv(empty.file), `startup-${t.id}`).wall);
        const r = measure(t.argv(cap.file), `run-${t.id}`);
        if (r.status !== 0) errors.set(t.id, `exit ${r.status}: ${tail(r.err).trim().split('\n').pop()}`);
        else {
          const bad = t.check(r.out, r.err, meta);
          if (bad !== null) errors.set(t.id, bad);
        }
        walls.get(t.id).push(r.wall);
        rss.get(t.id).push(r.rssMB);
      }
    }
    if (process.stdout.isTTY) process.stdout.write('\r'.padEnd(79) + '\r');
    const rows = tools.map((t) => {
      if (skipped.has(t.id)) return { id: t.id, label: t.label, skipped: skipped.get(t.id) };
      const wallSec = median(walls.get(t.id));
      const startupSec = median(startups.get(t.id));
      const netSec = Math.max(wallSec - startupSec, 1e-6);
      return {
        id: t.id,
        label: t.label,
        wallSec,
        walls: walls.get(t.id),
        framesPerSec: meta.frames / wallSec,
        startupSec,
        netSec,
        netFramesPerSec: meta.frames / netSec,
        peakRssMB: median(rss.get(t.id)),
        peakRssRuns: rss.get(t.id),
        error: errors.get(t.id) ?? null,
      };
    });
    const ref = [...rows].reverse().find((r) => !r.skipped && TOOLS.find((t) => t.id === r.id)?.synack);
    const bare = rows.find((r) => !r.skipped && TOOLS.find((t) => t.id === r.id)?.bare);
    for (const r of rows) {
      if (r.skipped) continue;
      r.vsSynack = ref ? r.wallSec / ref.wallSec : NaN;
      r.vsBare = bare ? r.wallSec / bare.wallSec : NaN;
      r.netVsSynack = ref ? r.netSec / ref.netSec : NaN;
      r.netVsBare = bare ? r.netSec / bare.netSec : NaN;
    }
    const size = {
      connections: n,
      conversations: meta.conversations,
      frames: meta.frames,
      bytes: meta.bytes,
      file: path.relative(ROOT, cap.file),
      generator: cap.generated ?? { cached: true, framesPerSec: meta.framesPerSec, peakRssMB: meta.maxRssMB },
      reference: ref?.id ?? null,
      tools: rows,
    };
    results.sizes.push(size);
    console.log(
      `\n${n} connections (${meta.conversations} conversations), ${meta.frames} frames, ${(meta.bytes / 1e6).toFixed(1)} MB; ` +
        `${o.runs === 1 ? '1 run' : `median of ${o.runs} runs`}; × = wall time over synack's (${ref?.label ?? 'none'}) / the bare loop's`,
    );
    printTable(size);
  }
  const stamp = results.date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const out = path.join(CACHE, `results-${stamp}.json`);
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  const peers = Object.values(versions).filter((v) => !v.startsWith('node'));
  console.log(`\nresults: ${path.relative(ROOT, out)}\n${[...peers, `node ${process.version}`, `${results.host.cpus} CPUs`].join('; ')}`);
}

main();
