import { sourceCorpus } from './core-lz4.mjs';
const codec = await import('../dist/host/node/core-codec.js');
const cs = await import('../dist/host/node/core-checksum.js');
const data = sourceCorpus(32 << 20);
function t(name, fn, n = 7) { fn(); fn(); const ts = []; for (let i = 0; i < n; i++) { const c0 = process.cpuUsage(); fn(); const cc = process.cpuUsage(c0); ts.push((cc.user + cc.system) / 1e3); } ts.sort((a,b)=>a-b); console.log(name.padEnd(30), (data.length / 1e6 / (ts[n>>1] / 1e3)).toFixed(0), 'MB/s cpu', ts[n>>1].toFixed(1), 'ms'); }
t('compress cc', () => codec.lz4Compress(data));
t('compress no cc', () => codec.lz4Compress(data, { contentChecksum: false }));
t('compress 1M blocks', () => codec.lz4Compress(data, { blockSize: 1048576 }));
t('xxh32', () => cs.xxh32(data));
t('frame blocks only', () => codec.lz4FrameBlocks(data, {}));
console.log('ratio', codec.lz4Compress(data).length / data.length);
