// Store benchmark (`npm run bench:store`): Forge's BlobStore against cacache, git loose objects
// and a naive node:crypto + fs store, all in this one run, on tmpfs (/dev/shm) and on disk.
// Needs a build (`npx tsc -p tsconfig.json`): it measures dist/, what ships.
//   node bench/store.mjs [--quick] [--no-history] [--sync] [--only=tmpfs|disk]
// Durability: the same for every store. Default: no fsync (cacache has no fsync option, git's
// core.fsync is off by default). --sync turns fsync on for Forge, git (core.fsync=all) and the
// naive store; cacache cannot, so its numbers stay unsynced (marked).
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  fsyncSync,
  openSync,
  closeSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import cacache from 'cacache';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const noHistory = process.argv.includes('--no-history');
const SYNC = process.argv.includes('--sync');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length); // tmpfs | disk

async function importDist(rel) {
  const file = join(root, 'dist', 'host', 'node', rel);
  if (!existsSync(file)) throw new Error(`bench/store: ${file} is missing: run \`npx tsc -p tsconfig.json\` first`);
  return import(pathToFileURL(file).href);
}
const { BlobStore } = await importDist('store/blob-store.js');

const N_SMALL = quick ? 500 : 2000;
const N_LARGE = quick ? 30 : 100;
const HISTORY_VERSIONS = quick ? 10 : 50;
const HISTORY_SIZE = 20 << 20;

// ----------------------------------------------------------------------------- data
const WORDS =
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(
    ' ',
  );
/** Text-like content (compresses ~2x with LZ4): what a source tree's history holds. */
function textLike(n, rnd = randomBytes(n)) {
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  let i = 0;
  while (at < n) {
    const w = WORDS[rnd[i++ % rnd.length] % WORDS.length] + (rnd[(i * 7) % rnd.length] % 13 === 0 ? '\n' : ' ');
    at += out.write(w, at);
  }
  return out;
}
/** `n` items of `size` bytes, 10% of them duplicates of earlier items. */
function dataset(n, size) {
  const items = [];
  for (let i = 0; i < n; i++) items.push(i % 10 === 9 ? items[(i * 7919) % items.length] : textLike(size));
  return items;
}
const sha256 = (d) => createHash('sha256').update(d).digest('hex');

// ----------------------------------------------------------------------------- stores
/** Each store: put(items) -> keys, get(keys) -> total bytes (every read verified). */
function forgeStore(label, opts, mode) {
  return {
    label,
    async open(dir) {
      this.s = await BlobStore.open(dir, { sync: SYNC, ...opts });
    },
    async put(items) {
      if (mode === 'batch') {
        const out = [];
        for (let i = 0; i < items.length; i += 256) for (const r of await this.s.putMany(items.slice(i, i + 256))) out.push(r.hash);
        return out;
      }
      if (mode === 'c16') return runConcurrent(items, 16, async (d) => (await this.s.put(d)).hash);
      const out = [];
      for (const d of items) out.push((await this.s.put(d)).hash);
      return out;
    },
    async get(keys) {
      let n = 0;
      if (mode === 'batch') {
        for (let i = 0; i < keys.length; i += 256)
          for (const r of await this.s.getMany(keys.slice(i, i + 256))) {
            if (!r.ok) throw r.error;
            n += r.data.length;
          }
        return n;
      }
      if (mode === 'c16') return (await runConcurrent(keys, 16, (k) => this.s.get(k))).reduce((a, b) => a + b.length, 0);
      for (const k of keys) n += (await this.s.get(k)).length;
      return n;
    },
    async close() {
      await this.s.close();
    },
  };
}

function cacacheStore(label, concurrency) {
  return {
    label: label + (SYNC ? ' (no fsync)' : ''),
    async open(dir) {
      this.dir = dir;
    },
    async put(items) {
      // Key = content hash, integrity sha256: the same addressing as the others.
      return runConcurrent(items, concurrency, async (d) => {
        await cacache.put(this.dir, sha256(d), d, { algorithms: ['sha256'] });
        return sha256(d);
      });
    },
    async get(keys) {
      // get(key) reads the index entry and the content and checks its integrity (EINTEGRITY on mismatch).
      const out = await runConcurrent(keys, concurrency, async (k) => (await cacache.get(this.dir, k)).data);
      return out.reduce((a, b) => a + b.length, 0);
    },
    async close() {
      cacache.clearMemoized();
    },
  };
}

function naiveStore() {
  return {
    label: 'naive sha256+writeFileSync+rename',
    async open(dir) {
      this.dir = dir;
      this.dirs = new Set();
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      this.n = 0;
    },
    async put(items) {
      const out = [];
      for (const d of items) {
        const h = sha256(d);
        const sub = join(this.dir, h.slice(0, 2));
        if (!this.dirs.has(sub)) {
          mkdirSync(sub, { recursive: true });
          this.dirs.add(sub);
        }
        const tmp = join(this.dir, 'tmp', String(this.n++));
        if (SYNC) {
          const fd = openSync(tmp, 'w');
          writeSync(fd, d);
          fsyncSync(fd);
          closeSync(fd);
        } else writeFileSync(tmp, d);
        renameSync(tmp, join(sub, h.slice(2)));
        out.push(h);
      }
      return out;
    },
    async get(keys) {
      let n = 0;
      for (const k of keys) {
        const d = readFileSync(join(this.dir, k.slice(0, 2), k.slice(2)));
        if (sha256(d) !== k) throw new Error('naive: corrupt');
        n += d.length;
      }
      return n;
    },
    async close() {},
  };
}

function gitStore() {
  return {
    label: 'git hash-object -w --stdin-paths / cat-file --batch',
    async open(dir) {
      this.repo = join(dir, 'repo');
      this.staging = join(dir, 'staging');
      mkdirSync(this.staging, { recursive: true });
      execFileSync('git', ['init', '-q', '--object-format=sha256', this.repo]);
      if (SYNC) execFileSync('git', ['-C', this.repo, 'config', 'core.fsync', 'all']);
    },
    // git reads paths, so the inputs are written to files first (not timed: see prepare()).
    prepare(items) {
      this.paths = items.map((d, i) => {
        const p = join(this.staging, String(i));
        writeFileSync(p, d);
        return p;
      });
    },
    async put() {
      const out = execFileSync('git', ['-C', this.repo, 'hash-object', '-w', '--stdin-paths'], { input: this.paths.join('\n') + '\n', maxBuffer: 1 << 28 });
      return out.toString().trim().split('\n');
    },
    async get(keys) {
      // cat-file --batch re-hashes nothing by itself; zlib's adler32 checks the stream.
      const out = execFileSync('git', ['-C', this.repo, 'cat-file', '--batch'], { input: keys.join('\n') + '\n', maxBuffer: 1 << 30 });
      return out.length;
    },
    async close() {},
  };
}

async function runConcurrent(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

// ----------------------------------------------------------------------------- measure
async function measure(store, base, items) {
  const dir = mkdtempSync(join(base, 'forge-bench-'));
  try {
    await store.open(dir);
    store.prepare?.(items);
    let t = performance.now();
    const keys = await store.put(items);
    const putMs = performance.now() - t;
    // Fresh handles for reads (cacache memoizes): reopen.
    await store.close?.();
    if (store.label.startsWith('forge')) await store.open(dir);
    t = performance.now();
    const bytes = await store.get(keys);
    const getMs = performance.now() - t;
    await store.close?.();
    const total = items.reduce((a, b) => a + b.length, 0);
    if (bytes !== total && !store.label.startsWith('git')) throw new Error(`${store.label}: read ${bytes} of ${total} bytes`);
    return { putMs, getMs, total };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function table(title, base, items, unit, repeats) {
  const stores = [
    forgeStore('forge put/get (sequential)', {}, 'seq'),
    forgeStore('forge put/get (16 concurrent)', {}, 'c16'),
    forgeStore('forge putMany/getMany (batches of 256)', {}, 'batch'),
    forgeStore('forge put/get, core SHA-256 (sequential)', { hasher: 'core' }, 'seq'),
    // O_DIRECT only touches objects of >= 1 MiB content: the 4 KiB table would repeat the c16 row.
    ...(unit === 'mb' ? [forgeStore('forge put/get, oDirect (16 concurrent)', { oDirect: true }, 'c16')] : []),
    // Blocks stored uncompressed (still LZ4 frames, verified alike): no compression cost, no space saved.
    forgeStore("forge put/get, compression 'none' (16 concurrent)", { compression: 'none' }, 'c16'),
    cacacheStore('cacache (sequential)', 1),
    cacacheStore('cacache (16 concurrent)', 16),
    gitStore(),
    naiveStore(),
  ];
  // Best of `repeats` rounds, the stores interleaved within each round, so a burst of load
  // from elsewhere on the machine does not land on one store only.
  const rows = stores.map((s) => ({ label: s.label, put: 0, get: 0 }));
  // The machine may be shared: the load says how much the absolute figures mean (ratios within
  // one table are measured interleaved, so they hold up better).
  const loadBefore = load();
  for (let round = 0; round < repeats; round++) {
    for (let i = 0; i < stores.length; i++) {
      const r = await measure(stores[i], base, items);
      const rate = (ms) => (unit === 'ops' ? items.length / (ms / 1000) : r.total / (1 << 20) / (ms / 1000));
      rows[i].put = Math.max(rows[i].put, rate(r.putMs));
      rows[i].get = Math.max(rows[i].get, rate(r.getMs));
    }
  }
  const by = (l) => rows.find((r) => r.label.startsWith(l));
  const c16 = by('cacache (16'),
    naive = by('naive'),
    git = by('git');
  console.log(
    `\n### ${title} on ${base} (${unit === 'ops' ? 'ops/s' : 'MB/s'}, best of ${repeats}, verified reads, fsync ${SYNC ? 'on' : 'off'}; load average ${loadBefore} before, ${load()} after)`,
  );
  console.log(`| store | put | get | put vs cacache-16 | get vs cacache-16 | put vs naive | get vs naive | put vs git | get vs git |`);
  console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${fmt(r.put)} | ${fmt(r.get)} | ${fmt(r.put / c16.put, 2)}x | ${fmt(r.get / c16.get, 2)}x | ${fmt(r.put / naive.put, 2)}x | ${fmt(r.get / naive.get, 2)}x | ${fmt(r.put / git.put, 2)}x | ${fmt(r.get / git.get, 2)}x |`,
    );
  }
  printGoals(rows, unit, c16, naive);
  return rows;
}

/**
 * The goals, judged on Forge's best mode (node:crypto hasher) in this table: once over every
 * mode, and once over the modes that compress (cacache and the naive store do not).
 */
function printGoals(rows, unit, c16, naive) {
  const all = rows.filter((r) => r.label.startsWith('forge') && !r.label.includes('core SHA-256'));
  printGoalsOf(all, unit, c16, naive, 'goals');
  printGoalsOf(
    all.filter((r) => !r.label.includes("compression 'none'")),
    unit,
    c16,
    naive,
    'goals, LZ4-compressed modes only',
  );
}

function printGoalsOf(forge, unit, c16, naive, title) {
  const best = (k) => forge.reduce((a, b) => (b[k] > a[k] ? b : a));
  const verdict = (ok) => (ok ? 'met' : 'not met');
  const bp = best('put'),
    bg = best('get');
  const say = (what, r, k, peer, goal) =>
    `${what} ${fmt(r[k] / peer[k], 2)}x (${r.label.replace(/^forge /, '')}; goal >= ${goal}x: ${verdict(r[k] / peer[k] >= goal)})`;
  if (unit === 'ops') {
    console.log(
      `${title}: ${say('put vs cacache-16', bp, 'put', c16, 10)}; ${say('put vs naive', bp, 'put', naive, 0.8)}; ` +
        `${say('get vs cacache-16', bg, 'get', c16, 10)}; ${say('get vs naive', bg, 'get', naive, 0.8)}`,
    );
  } else {
    console.log(`${title}: ${say('put vs cacache-16', bp, 'put', c16, 1)}; ${say('get vs cacache-16', bg, 'get', c16, 1)}`);
  }
}

// ----------------------------------------------------------------------------- history
function duBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += duBytes(p);
    else n += statSync(p).size;
  }
  return n;
}

async function history(base) {
  const dir = mkdtempSync(join(base, 'forge-history-'));
  try {
    let file = textLike(HISTORY_SIZE);
    const versions = [];
    for (let v = 0; v < HISTORY_VERSIONS; v++) {
      if (v > 0) {
        // A few small edits: overwrites, and now and then an insertion (which shifts everything after it).
        file = Buffer.from(file);
        for (let e = 0; e < 3; e++) {
          const at = Math.floor(Math.random() * (file.length - 200));
          textLike(1 + Math.floor(Math.random() * 100)).copy(file, at);
        }
        if (v % 5 === 0) {
          const at = Math.floor(Math.random() * file.length);
          file = Buffer.concat([file.subarray(0, at), Buffer.from('inserted line\n'), file.subarray(at)]);
        }
      }
      versions.push(file);
    }
    const logical = versions.reduce((a, b) => a + b.length, 0);
    const store = await BlobStore.open(join(dir, 'forge'), { sync: SYNC });
    let t = performance.now();
    for (const v of versions) await store.put(v);
    const forgeMs = performance.now() - t;
    await store.close();
    const forgeBytes = duBytes(join(dir, 'forge', 'objects')) + duBytes(join(dir, 'forge', 'manifests'));
    const repo = join(dir, 'repo');
    execFileSync('git', ['init', '-q', '--object-format=sha256', repo]);
    const paths = versions.map((v, i) => {
      const p = join(dir, `v${i}`);
      writeFileSync(p, v);
      return p;
    });
    t = performance.now();
    execFileSync('git', ['-C', repo, 'hash-object', '-w', '--stdin-paths'], { input: paths.join('\n') + '\n', maxBuffer: 1 << 24 });
    const gitMs = performance.now() - t;
    const gitBytes = duBytes(join(repo, '.git', 'objects'));
    const mb = (b) => fmt(b / (1 << 20), 1);
    console.log(
      `\n### History: ${HISTORY_VERSIONS} versions of a ${HISTORY_SIZE >> 20} MiB text file, 3 small edits each (+ an insertion every 5th), on ${base}`,
    );
    console.log(`| store | bytes stored | vs logical | vs git loose | time |`);
    console.log(`|---|---:|---:|---:|---:|`);
    console.log(`| logical (sum of versions) | ${mb(logical)} MiB | 1.00x | | |`);
    console.log(`| git loose objects (zlib) | ${mb(gitBytes)} MiB | ${fmt(gitBytes / logical, 3)}x | 1.00x | ${fmt(gitMs / 1000, 1)} s |`);
    console.log(
      `| forge (FastCDC chunks + LZ4) | ${mb(forgeBytes)} MiB | ${fmt(forgeBytes / logical, 3)}x | ${fmt(forgeBytes / gitBytes, 3)}x | ${fmt(forgeMs / 1000, 1)} s |`,
    );
    console.log(`goal: forge <= 0.2x the bytes of git loose objects: ${forgeBytes / gitBytes <= 0.2 ? 'met' : 'not met'} (${fmt(forgeBytes / gitBytes, 3)}x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----------------------------------------------------------------------------- main
console.log(`# bench:store — ${cpus().length}-core ${process.arch} ${cpus()[0]?.model ?? ''}, Linux, Node ${process.version}${quick ? ' (quick)' : ''}`);
const small = dataset(N_SMALL, 4096);
const large = dataset(N_LARGE, 1 << 20);
const locations = [
  ['tmpfs', '/dev/shm'],
  ['disk', existsSync('/work') ? '/work' : tmpdir()],
].filter(([kind, p]) => existsSync(p) && (only === undefined || only === kind));
for (const [kind, base] of locations) {
  let benchBase = base;
  if (base === '/work') {
    benchBase = join('/work', '.bench-tmp');
    mkdirSync(benchBase, { recursive: true });
  }
  const repeats = quick ? 1 : kind === 'tmpfs' ? 3 : 2;
  await table(`${N_SMALL} x 4 KiB (10% duplicates), ${kind}`, benchBase, small, 'ops', repeats);
  await table(`${N_LARGE} x 1 MiB (10% duplicates), ${kind}`, benchBase, large, 'mb', repeats);
  if (benchBase !== base) rmSync(benchBase, { recursive: true, force: true });
}
if (!noHistory) await history(existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
