// Who may read the store: an unprivileged user must not get at a recorded 0600 file's content
// through it (the directory is 0700, objects 0400), and a store left more open by an older
// version is tightened when opened.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from '../../host/node/store/blob-store.js';
import { objectPath } from '../../host/node/store/object-path.js';
import { requireRoot } from '../support/reference-tools.js';
import { tempDir } from './helpers.js';

const asRoot = requireRoot('store permission checks as another user (setpriv --reuid=nobody)');
const SECRET = 'root-only secret: 4f1c9a\n'.repeat(50);

/** Runs `cmd` as nobody:nogroup without supplementary groups. */
function asNobody(cmd: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...cmd], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A base directory every user may traverse (mkdtemp makes 0700 ones, which would hide the store anyway). */
function openBase(): { dir: string; cleanup: () => void } {
  const t = tempDir('forge-access-');
  chmodSync(t.dir, 0o755);
  return t;
}

describe('store access', () => {
  it('creates the store directory 0700 and objects 0400', async () => {
    const t = openBase();
    try {
      const store = await BlobStore.open(join(t.dir, 'store'));
      const hash = await store.put(new TextEncoder().encode('x')).then((r) => r.hash);
      await store.close();
      expect(statSync(join(t.dir, 'store')).mode & 0o777).toBe(0o700);
      expect(statSync(objectPath(join(t.dir, 'store'), hash)).mode & 0o777).toBe(0o400);
      expect(store.access.tightenedFrom).toBeUndefined();
    } finally {
      t.cleanup();
    }
  });

  it.skipIf(!asRoot)('nobody cannot read a recorded 0600 file through the store', async () => {
    const t = openBase();
    try {
      const secretFile = join(t.dir, 'secret.txt');
      writeFileSync(secretFile, SECRET, { mode: 0o600 });
      const dir = join(t.dir, 'store');
      const store = await BlobStore.open(dir);
      const { hash } = await store.putFile(secretFile, { safe: true });
      await store.close();
      const obj = objectPath(dir, hash);
      // Root reads it back (the object really holds the secret) ...
      expect(spawnSync('sh', ['-c', `lz4 -dc < '${obj}'`], { encoding: 'utf8' }).stdout).toBe(SECRET);
      // ... nobody can neither read the object, nor list the store, nor decode through lz4.
      expect(asNobody(['cat', obj]).status).not.toBe(0);
      expect(asNobody(['ls', join(dir, 'objects')]).status).not.toBe(0);
      const viaLz4 = asNobody(['sh', '-c', `lz4 -dc < '${obj}'`]);
      expect(viaLz4.stdout).not.toContain('secret');
    } finally {
      t.cleanup();
    }
  });

  it.skipIf(!asRoot)('an existing store more open than 0700 is tightened on open, and says so', async () => {
    const t = openBase();
    try {
      const secretFile = join(t.dir, 'secret.txt');
      writeFileSync(secretFile, SECRET, { mode: 0o600 });
      const dir = join(t.dir, 'store');
      let store = await BlobStore.open(dir);
      const { hash } = await store.putFile(secretFile);
      await store.close();
      // What an older version left: 0755 directories and 0444 objects.
      const obj = objectPath(dir, hash);
      for (const d of [dir, join(dir, 'objects'), join(dir, 'objects', hash.slice(0, 2))]) chmodSync(d, 0o755);
      chmodSync(obj, 0o444);
      // The check below can tell: in that state nobody does read the content.
      expect(asNobody(['sh', '-c', `lz4 -dc < '${obj}'`]).stdout).toBe(SECRET);
      store = await BlobStore.open(dir);
      await store.close();
      expect(store.access).toEqual({ mode: 0o700, tightenedFrom: 0o755 });
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(asNobody(['cat', obj]).status).not.toBe(0);
      expect(asNobody(['sh', '-c', `lz4 -dc < '${obj}'`]).stdout).not.toContain('secret');
    } finally {
      t.cleanup();
    }
  });

  it('creates the store 0700 even under a permissive umask', async () => {
    const t = openBase();
    const old = process.umask(0);
    try {
      mkdirSync(join(t.dir, 'parent'));
      const store = await BlobStore.open(join(t.dir, 'parent', 'store'));
      await store.put(new Uint8Array(10)).then((r) => r.hash);
      await store.close();
      expect(statSync(join(t.dir, 'parent', 'store')).mode & 0o777).toBe(0o700);
      expect(statSync(join(t.dir, 'parent', 'store', 'objects')).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(old);
      t.cleanup();
    }
  });
});
