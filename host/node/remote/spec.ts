/**
 * Remotes as the store keeps them: a name, an `s3://bucket/prefix` URL and
 * connection settings, saved in the index's state table (key `remotes`).
 * Credentials are never stored: the AWS SDK's default chain supplies them.
 */
import { ForgeError } from '../base/errors.js';
import type { Index } from '../index-db/index.js';

/** One configured remote. */
export interface RemoteSpec {
  name: string;
  bucket: string;
  /** Key prefix without leading or trailing `/` ('' for the bucket root). */
  prefix: string;
  /** S3 endpoint URL, e.g. `http://127.0.0.1:7480` (default: AWS). */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), as RGW and MinIO usually need. */
  pathStyle?: boolean;
}

const STATE_KEY = 'remotes';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function invalid(message: string, suggestion: string): ForgeError {
  return new ForgeError('validation', message, { context: { operation: 'remote' }, suggestions: [suggestion] });
}

/** The URL of a remote, as `forge remote list` prints it. */
export function remoteUrl(spec: RemoteSpec): string {
  return `s3://${spec.bucket}${spec.prefix ? '/' + spec.prefix : ''}`;
}

/**
 * Parses `s3://<bucket>[/<prefix>]` plus options into a spec; throws a validation ForgeError on bad input.
 *
 * @example
 * ```ts
 * parseRemote('backup', 's3://forge/laptop', { endpoint: 'http://127.0.0.1:7480', pathStyle: true });
 * ```
 */
export function parseRemote(name: string, url: string, options: { endpoint?: string; region?: string; pathStyle?: boolean } = {}): RemoteSpec {
  if (!NAME_RE.test(name)) throw invalid(`invalid remote name ${JSON.stringify(name)}`, 'Use letters, digits, ".", "_" or "-" (at most 64).');
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw invalid(`invalid remote URL ${JSON.stringify(url)}`, 'Give it as s3://<bucket>/<prefix>, e.g. s3://backups/forge/laptop.');
  const bucket = m[1]!;
  if (!BUCKET_RE.test(bucket))
    throw invalid(`invalid bucket name ${JSON.stringify(bucket)}`, 'Bucket names are 3-63 characters: lowercase letters, digits, "." and "-".');
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '.' || p === '..') || prefix.includes('//')) {
    throw invalid(`invalid prefix ${JSON.stringify(prefix)}`, 'The prefix is a plain key path such as forge/laptop (no "..", no empty parts).');
  }
  if (options.endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(options.endpoint);
    } catch {
      throw invalid(`invalid --endpoint ${JSON.stringify(options.endpoint)}`, 'Give a URL such as http://127.0.0.1:7480 or https://s3.example.com.');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw invalid(`--endpoint must be http(s), got ${u.protocol}`, 'Give a URL such as https://s3.example.com.');
  }
  return {
    name,
    bucket,
    prefix,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint.replace(/\/+$/, '') } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.pathStyle ? { pathStyle: true } : {}),
  };
}

/** Every configured remote, by name. */
export async function listRemotes(index: Index): Promise<RemoteSpec[]> {
  const all = (await index.getState<Record<string, RemoteSpec>>(STATE_KEY)) ?? {};
  return Object.values(all).sort((a, b) => a.name.localeCompare(b.name));
}

/** Adds a remote; refuses a name in use. */
export async function addRemote(index: Index, spec: RemoteSpec): Promise<void> {
  const all = (await index.getState<Record<string, RemoteSpec>>(STATE_KEY)) ?? {};
  if (all[spec.name]) {
    throw invalid(
      `a remote named '${spec.name}' exists (${remoteUrl(all[spec.name]!)})`,
      `Remove it first with \`forge remote remove ${spec.name}\`, or pick another name.`,
    );
  }
  all[spec.name] = spec;
  await index.setState(STATE_KEY, all);
}

/** Removes a remote; throws if there is none of that name. */
export async function removeRemote(index: Index, name: string): Promise<RemoteSpec> {
  const all = (await index.getState<Record<string, RemoteSpec>>(STATE_KEY)) ?? {};
  const spec = all[name];
  if (!spec) throw unknownRemote(name, Object.keys(all));
  delete all[name];
  await index.setState(STATE_KEY, all);
  return spec;
}

/** The remote `name`, or the only one when `name` is undefined. */
export async function findRemote(index: Index, name: string | undefined): Promise<RemoteSpec> {
  const all = (await index.getState<Record<string, RemoteSpec>>(STATE_KEY)) ?? {};
  const names = Object.keys(all);
  if (name === undefined) {
    if (names.length === 1) return all[names[0]!]!;
    throw new ForgeError('validation', names.length === 0 ? 'no remote is configured' : `several remotes are configured (${names.join(', ')}); name one`, {
      context: { operation: 'remote' },
      suggestions:
        names.length === 0 ? ['Add one: `forge remote add <name> s3://<bucket>/<prefix> --endpoint <url>`.'] : ['Give the remote name as the argument.'],
    });
  }
  const spec = all[name];
  if (!spec) throw unknownRemote(name, names);
  return spec;
}

function unknownRemote(name: string, names: string[]): ForgeError {
  return invalid(
    `no remote named '${name}'`,
    names.length ? `Configured remotes: ${names.join(', ')} (\`forge remote list\`).` : 'Add one with `forge remote add <name> s3://<bucket>/<prefix>`.',
  );
}
