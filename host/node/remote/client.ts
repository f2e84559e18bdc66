/**
 * The S3 client behind every remote operation: loads `@aws-sdk/client-s3`
 * only when a remote is used, counts requests and bytes, turns SDK failures
 * into ForgeErrors (network failures retryable, credentials / bucket /
 * permission problems not), and retries through the project's `withRetry`.
 */
import { ForgeError, toForgeError } from '../base/errors.js';
import { withRetry, type RetryPolicy } from '../base/retry.js';
import type { RemoteSpec } from './spec.js';

/** Requests and bytes one client sent and received. */
export interface RequestCounts {
  requests: number;
  puts: number;
  gets: number;
  heads: number;
  lists: number;
  deletes: number;
  bytesUp: number;
  bytesDown: number;
  retries: number;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModifiedMs: number;
}

/** Result of a conditional put. */
export type PutOutcome = { ok: true; etag: string } | { ok: false; reason: 'precondition' };

export interface ClientOptions {
  /** Aborts requests in flight and the retry sleeps. */
  signal?: AbortSignal;
  /** Retry policy for transient failures (defaults: the process-wide ones). */
  retry?: RetryPolicy;
  /** Per-request timeout in ms (default 60,000). */
  requestTimeoutMs?: number;
}

type S3Module = typeof import('@aws-sdk/client-s3');
type S3 = import('@aws-sdk/client-s3').S3Client;

/** Objects larger than this go up as a multipart upload (lib-storage). */
export const MULTIPART_THRESHOLD = 64 << 20;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const CREDENTIAL_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
  'ExpiredToken',
  'InvalidToken',
  'AuthorizationHeaderMalformed',
]);

function sdkFields(err: unknown): { name: string; status: number | undefined; code: string | undefined } {
  const e = err as { name?: unknown; Code?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number }; cause?: { code?: unknown } };
  const name = typeof e?.Code === 'string' ? e.Code : typeof e?.name === 'string' ? e.name : 'Error';
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? (e.cause.code as string) : undefined;
  return { name, status: e?.$metadata?.httpStatusCode, code };
}

/**
 * Maps an SDK/transport failure to a ForgeError: `network` (retryable) for
 * connection failures, timeouts and 5xx; `configuration` (not retryable) for
 * credentials, a missing bucket and denied access.
 */
export function remoteError(err: unknown, spec: RemoteSpec, operation: string, key?: string): ForgeError {
  if (err instanceof ForgeError) return err;
  const { name, status, code } = sdkFields(err);
  const where = `s3://${spec.bucket}${key !== undefined ? '/' + key : ''}`;
  const context = { operation, file: where, remote: spec.name, ...(code ? { code } : { code: name }), ...(status ? { httpStatus: status } : {}) };
  const endpoint = spec.endpoint ?? 'the default AWS endpoint';
  if (CREDENTIAL_NAMES.has(name) || (name === 'Error' && /credential/i.test(String((err as Error)?.message)))) {
    return new ForgeError('configuration', `${operation}: the remote '${spec.name}' refused the credentials (${name})`, {
      cause: err,
      context,
      retryable: false,
      suggestions: [
        'Forge takes credentials from the AWS SDK default chain only: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/credentials, or an instance role.',
        `Check the keys are valid for ${endpoint} (and the region), then retry.`,
      ],
    });
  }
  if (name === 'NoSuchBucket') {
    return new ForgeError('configuration', `${operation}: bucket '${spec.bucket}' does not exist at ${endpoint}`, {
      cause: err,
      context,
      retryable: false,
      suggestions: [
        `Create it (e.g. \`aws s3 mb s3://${spec.bucket} --endpoint-url ${spec.endpoint ?? '<url>'}\`) or fix the remote's URL with \`forge remote remove\` / \`forge remote add\`.`,
      ],
    });
  }
  if (name === 'AccessDenied' || status === 403) {
    return new ForgeError('configuration', `${operation}: access denied to ${where}`, {
      cause: err,
      context,
      retryable: false,
      suggestions: ["The credentials are valid but may not read/write this bucket or prefix: check the bucket policy or the user's permissions."],
    });
  }
  const transport =
    (code !== undefined && NETWORK_CODES.has(code)) ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    name === 'RequestTimeTooSkewed' ||
    /socket hang up|ECONNREFUSED|ECONNRESET|EPIPE/.test(String((err as Error)?.message));
  if (transport || (status !== undefined && status >= 500) || name === 'SlowDown') {
    return new ForgeError('network', `${operation}: ${where} unreachable or failing (${code ?? name}${status ? `, HTTP ${status}` : ''})`, {
      cause: err,
      context,
      retryable: true,
      suggestions: [`Check that ${endpoint} is reachable; the push or clone resumes where it stopped when run again.`],
    });
  }
  return toForgeError(err, context, `${operation}: ${where}: ${name}${status ? ` (HTTP ${status})` : ''}: ${(err as Error)?.message ?? ''}`);
}

function isNotFound(err: unknown): boolean {
  const { name, status } = sdkFields(err);
  return (name === 'NoSuchKey' || name === 'NotFound' || status === 404) && name !== 'NoSuchBucket';
}

function isPrecondition(err: unknown): boolean {
  const { name, status } = sdkFields(err);
  return status === 412 || name === 'PreconditionFailed' || status === 409 || name === 'ConditionalRequestConflict';
}

/**
 * One connection to one remote. Keys passed in are relative to the remote's prefix.
 *
 * @example
 * ```ts
 * const client = await RemoteClient.connect({ name: 'backup', bucket: 'b', prefix: 'p', endpoint: 'http://127.0.0.1:7480', pathStyle: true });
 * const head = await client.get('hosts/alpha/head.json');
 * client.close();
 * ```
 */
export class RemoteClient {
  readonly counts: RequestCounts = { requests: 0, puts: 0, gets: 0, heads: 0, lists: 0, deletes: 0, bytesUp: 0, bytesDown: 0, retries: 0 };

  private constructor(
    readonly spec: RemoteSpec,
    private readonly sdk: S3Module,
    private readonly s3: S3,
    private readonly options: ClientOptions,
  ) {}

  /** Loads the SDK and builds a client; no request is sent yet. */
  static async connect(spec: RemoteSpec, options: ClientOptions = {}): Promise<RemoteClient> {
    // The SDK warns on every run under Node < 22 about its releases after January 2027;
    // Forge pins a version that supports Node 20 (docs/remote.md), so the notice is noise.
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    let sdk: S3Module;
    try {
      sdk = await import('@aws-sdk/client-s3');
    } catch (e) {
      throw new ForgeError('dependency', 'the remote commands need @aws-sdk/client-s3, which is not installed', {
        cause: e,
        context: { operation: 'load @aws-sdk/client-s3' },
        suggestions: ['Install it: `npm install @aws-sdk/client-s3 @aws-sdk/lib-storage`.'],
      });
    }
    const timeout = options.requestTimeoutMs ?? 60_000;
    const s3 = new sdk.S3Client({
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      region: spec.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      forcePathStyle: spec.pathStyle === true,
      // The SDK's default checksums break streamed puts on RGW (411) and are not needed: every
      // object is named by its SHA-256 and checked on arrival.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Retries are Forge's (withRetry): one policy, logged and counted.
      maxAttempts: 1,
      requestHandler: { requestTimeout: timeout, connectionTimeout: Math.min(timeout, 10_000) },
    });
    return new RemoteClient(spec, sdk, s3, options);
  }

  /** The full object key of `rel`. */
  key(rel: string): string {
    return this.spec.prefix ? `${this.spec.prefix}/${rel}` : rel;
  }

  private async call<T>(operation: string, rel: string | undefined, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return withRetry(
      async (_attempt, signal) => {
        this.counts.requests++;
        try {
          return await fn(signal);
        } catch (e) {
          throw remoteError(e, this.spec, operation, rel === undefined ? undefined : this.key(rel));
        }
      },
      {
        ...this.options.retry,
        operation: `remote ${operation}`,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        onRetry: (info) => {
          this.counts.retries++;
          this.options.retry?.onRetry?.(info);
        },
      },
    );
  }

  /** The object's bytes and ETag, or undefined when it does not exist. */
  async get(rel: string): Promise<{ body: Uint8Array; etag: string } | undefined> {
    return this.call('get', rel, async (signal) => {
      this.counts.gets++;
      try {
        const out = await this.s3.send(new this.sdk.GetObjectCommand({ Bucket: this.spec.bucket, Key: this.key(rel) }), signal ? { abortSignal: signal } : {});
        const body = await out.Body!.transformToByteArray();
        this.counts.bytesDown += body.length;
        return { body, etag: unquote(out.ETag ?? '') };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    });
  }

  /** Size, ETag and time of an object, or undefined. */
  async head(rel: string): Promise<{ size: number; etag: string; lastModifiedMs: number } | undefined> {
    return this.call('head', rel, async (signal) => {
      this.counts.heads++;
      try {
        const out = await this.s3.send(new this.sdk.HeadObjectCommand({ Bucket: this.spec.bucket, Key: this.key(rel) }), signal ? { abortSignal: signal } : {});
        return { size: out.ContentLength ?? 0, etag: unquote(out.ETag ?? ''), lastModifiedMs: out.LastModified?.getTime() ?? 0 };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    });
  }

  /**
   * Writes an object. `ifNoneMatch`: only if absent; `ifMatch`: only if its ETag is still this
   * (sent unquoted: RGW rejects a quoted If-Match on PUT). A failed condition is `{ ok: false }`.
   */
  async put(rel: string, body: Uint8Array, cond: { ifNoneMatch?: boolean; ifMatch?: string; contentType?: string } = {}): Promise<PutOutcome> {
    if (body.length > MULTIPART_THRESHOLD && cond.ifMatch === undefined) return this.putLarge(rel, body);
    return this.call('put', rel, async (signal) => {
      this.counts.puts++;
      try {
        const out = await this.s3.send(
          new this.sdk.PutObjectCommand({
            Bucket: this.spec.bucket,
            Key: this.key(rel),
            Body: body,
            ContentLength: body.length,
            ContentType: cond.contentType ?? 'application/octet-stream',
            ...(cond.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            ...(cond.ifMatch !== undefined ? { IfMatch: cond.ifMatch } : {}),
          }),
          signal ? { abortSignal: signal } : {},
        );
        this.counts.bytesUp += body.length;
        return { ok: true as const, etag: unquote(out.ETag ?? '') };
      } catch (e) {
        if (isPrecondition(e)) return { ok: false as const, reason: 'precondition' as const };
        throw e;
      }
    });
  }

  /** A multipart upload (lib-storage); RGW returns no ETag for it, so none is reported. */
  private async putLarge(rel: string, body: Uint8Array): Promise<PutOutcome> {
    const { Upload } = await import('@aws-sdk/lib-storage');
    return this.call('multipart put', rel, async (signal) => {
      const parts = Math.ceil(body.length / (16 << 20));
      this.counts.puts += parts; // one PUT per part; create and complete are POSTs
      this.counts.requests += parts + 1; // call() counted one of the parts + 2
      const up = new Upload({
        client: this.s3,
        params: { Bucket: this.spec.bucket, Key: this.key(rel), Body: body },
        partSize: 16 << 20,
        queueSize: 4,
        leavePartsOnError: false,
      });
      const onAbort = () => void up.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await up.done();
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      this.counts.bytesUp += body.length;
      return { ok: true as const, etag: '' };
    });
  }

  /** Every object under `relPrefix` (paged, 1,000 keys per request). Keys are returned relative to the remote's prefix. */
  async list(relPrefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    const strip = this.spec.prefix ? this.spec.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const page = await this.call('list', relPrefix, async (signal) => {
        this.counts.lists++;
        return this.s3.send(
          new this.sdk.ListObjectsV2Command({ Bucket: this.spec.bucket, Prefix: this.key(relPrefix), ...(token ? { ContinuationToken: token } : {}) }),
          signal ? { abortSignal: signal } : {},
        );
      });
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        out.push({ key: o.Key.slice(strip), size: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Deletes one object (absent is fine). */
  async delete(rel: string): Promise<void> {
    await this.call('delete', rel, async (signal) => {
      this.counts.deletes++;
      await this.s3.send(new this.sdk.DeleteObjectCommand({ Bucket: this.spec.bucket, Key: this.key(rel) }), signal ? { abortSignal: signal } : {});
    });
  }

  close(): void {
    this.s3.destroy();
  }
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}
