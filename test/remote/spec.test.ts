/**
 * Remote URLs and settings (no cluster needed), the remote commands in
 * `forge --help`, and that loading the CLI does not load the AWS SDK.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { runCli } from '../../host/node/cli/main.js';
import { parseRemote, remoteUrl } from '../../host/node/remote/spec.js';

function capture(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('remote specs', () => {
  it('parses s3://bucket/prefix with endpoint, region and path style', () => {
    const s = parseRemote('backup', 's3://forge-backups/team/laptop/', { endpoint: 'http://127.0.0.1:7480/', region: 'eu-west-1', pathStyle: true });
    expect(s).toEqual({
      name: 'backup',
      bucket: 'forge-backups',
      prefix: 'team/laptop',
      endpoint: 'http://127.0.0.1:7480',
      region: 'eu-west-1',
      pathStyle: true,
    });
    expect(remoteUrl(s)).toBe('s3://forge-backups/team/laptop');
    expect(parseRemote('r', 's3://bucket-only').prefix).toBe('');
  });

  it.each([
    ['bad name', 'x y', 's3://bucket/p', {}],
    ['not s3', 'r', 'https://bucket/p', {}],
    ['uppercase bucket', 'r', 's3://Bucket/p', {}],
    ['short bucket', 'r', 's3://ab/p', {}],
    ['dot-dot prefix', 'r', 's3://bucket/a/../b', {}],
    ['empty part', 'r', 's3://bucket/a//b', {}],
    ['ftp endpoint', 'r', 's3://bucket/p', { endpoint: 'ftp://host' }],
    ['garbage endpoint', 'r', 's3://bucket/p', { endpoint: 'not a url' }],
  ])('refuses %s with a validation error and a suggestion', (_label, name, url, opts) => {
    let err: unknown;
    try {
      parseRemote(name, url, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as ForgeError).category).toBe('validation');
    expect((err as ForgeError).suggestions().join(' ').length).toBeGreaterThan(10);
  });

  it('forge --help lists remote, push, clone and pull; their help renders', async () => {
    const out = capture();
    expect(await runCli(['--help'], { stdout: out, stderr: capture() })).toBe(0);
    for (const c of ['remote', 'push', 'clone', 'pull']) expect(out.text).toMatch(new RegExp(`^  ${c} `, 'm'));
    for (const c of ['remote', 'push', 'clone', 'pull']) {
      const h = capture();
      expect(await runCli([c, '--help'], { stdout: h, stderr: capture() })).toBe(0);
      expect(h.text).toContain(`Usage: forge ${c}`);
    }
    const watch = capture();
    await runCli(['watch', '--help'], { stdout: watch, stderr: capture() });
    expect(watch.text).toContain('--push <remote>');
  });

  it('the AWS SDK is imported in one place only, dynamically (nothing else in Forge pays for it)', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'host');
    const sites: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts')) {
          for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
            if (/['"]@aws-sdk\//.test(line) && !/^\s*(\*|\/\/)/.test(line)) sites.push(`${path.relative(root, p)}: ${line.trim()}`);
          }
        }
      }
    };
    walk(root);
    expect(sites.length).toBeGreaterThan(0);
    for (const s of sites) expect(s, s).toMatch(/^node\/remote\/client\.ts: .*(await import\(|typeof import\(|import\('@aws-sdk)/);
  });
});
