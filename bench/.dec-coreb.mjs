import { sourceCorpus } from './core-lz4.mjs';
const codec = await import('../dist/host/node/core-codec.js');
const core = await import('../dist/host/node/core.js');
const data = sourceCorpus(32 << 20);
const c = core.defaultCore();
const f0 = codec.lz4Compress(data, { contentChecksum: false });
function t(name, fn, n = 9) { for (let i=0;i<3;i++) fn(); const ts = []; for (let i = 0; i < n; i++) { const c0 = process.cpuUsage(); fn(); const cc = process.cpuUsage(c0); ts.push((cc.user + cc.system) / 1e3); } ts.sort((a,b)=>a-b); console.log(name.padEnd(30), (data.length / 1e6 / (ts[n>>1] / 1e3)).toFixed(0), 'MB/s cpu', ts[n>>1].toFixed(1), 'ms'); }
const dec = c.export('codec', 'lz4-frame-decompress'); const post = c.post('codec', 'lz4-frame-decompress');
const args = c.args(f0.length); const ptr = args.bytes(f0);
t('raw frame decode', () => { const r = dec(ptr, f0.length, 1n << 30n); post(r); });
