// The benchmark tree shared by bench:daemon and bench:remote: a copy of node_modules, plus its small
// files again (each with one byte appended) while the first copy has fewer than 20,000 files.
import fs from 'node:fs';
import path from 'node:path';

function copyTree(src, dst, filter) {
  let files = 0;
  let bytes = 0;
  const stack = [[src, dst]];
  while (stack.length) {
    const [s, d] = stack.pop();
    fs.mkdirSync(d, { recursive: true });
    for (const e of fs.readdirSync(s, { withFileTypes: true })) {
      const sp = path.join(s, e.name);
      const dp = path.join(d, e.name);
      if (e.name === '.gitignore' || e.name === '.git') continue;
      if (e.isDirectory()) stack.push([sp, dp]);
      else if (e.isFile()) {
        const st = fs.statSync(sp);
        const how = filter(sp, st);
        if (how === false) continue;
        if (how === 'append') fs.writeFileSync(dp, Buffer.concat([fs.readFileSync(sp), Buffer.from('\n')]));
        else fs.copyFileSync(sp, dp);
        files++;
        bytes += st.size;
      }
    }
  }
  return { files, bytes };
}

/** Makes `<work>/tree` from `<repo>/node_modules` (removing `work` first); returns it with its file count and bytes. */
export function prepareTree(work, repo) {
  const tree = path.join(work, 'tree');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(tree, { recursive: true });
  const src = path.join(repo, 'node_modules');
  const notCache = (p) => !p.startsWith(path.join(src, '.cache') + path.sep);
  const a = copyTree(src, path.join(tree, 'copy1'), (p) => notCache(p));
  let b = { files: 0, bytes: 0 };
  if (a.files < 20_000) b = copyTree(src, path.join(tree, 'copy2'), (p, st) => (notCache(p) && st.size < 64 * 1024 ? 'append' : false));
  return { tree, files: a.files + b.files, bytes: a.bytes + b.bytes };
}

/** A tree of `n` tiny files with distinct content, 100 per directory, 100 directories per parent; returns its bytes. */
export function tinyTree(dir, n) {
  fs.rmSync(dir, { recursive: true, force: true });
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const d = path.join(dir, `d${Math.floor(i / 10_000)}`, `e${Math.floor(i / 100) % 100}`);
    if (i % 100 === 0) fs.mkdirSync(d, { recursive: true });
    const body = `file ${i}: ${'forge scale bench '.repeat(1 + (i % 25))}\n`;
    fs.writeFileSync(path.join(d, `f${i}.txt`), body);
    bytes += body.length;
  }
  return bytes;
}
