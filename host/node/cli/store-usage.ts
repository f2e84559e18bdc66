/** Bytes the store occupies on disk, by part (objects, manifests, index). */
import * as fs from 'node:fs';
import path from 'node:path';

export interface StoreUsage {
  objects: number;
  objectBytes: number;
  indexBytes: number;
  totalBytes: number;
}

function walkSize(dir: string, onFile: (size: number) => void): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkSize(p, onFile);
    else if (e.isFile()) {
      try {
        onFile(fs.statSync(p).size);
      } catch {
        /* vanished */
      }
    }
  }
}

export function storeUsage(storeDir: string): StoreUsage {
  let objects = 0;
  let objectBytes = 0;
  walkSize(path.join(storeDir, 'objects'), (s) => {
    objects++;
    objectBytes += s;
  });
  let indexBytes = 0;
  for (const f of fs.readdirSync(storeDir)) {
    if (f.startsWith('index.db')) {
      try {
        indexBytes += fs.statSync(path.join(storeDir, f)).size;
      } catch {
        /* vanished */
      }
    }
  }
  let total = 0;
  walkSize(storeDir, (s) => (total += s));
  return { objects, objectBytes, indexBytes, totalBytes: total };
}
