/**
 * The metrics endpoint: Prometheus text at `/metrics`, JSON at `/metrics.json`.
 *
 * Default address `127.0.0.1:9464`. It binds to loopback only unless
 * `allowRemote: true` (config `metricsAllowRemote`); a non-loopback host
 * without it is a configuration ForgeError, never a silent public bind.
 *
 * ```ts
 * const server = await startMetricsServer(metrics, { address: cfg.metricsAddress, allowRemote: cfg.metricsAllowRemote });
 * shutdown.register({ name: 'metrics', phase: 'intake', stop: () => server.close() });
 * ```
 */
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { Metrics } from './metrics.js';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** `host:port` (IPv6 as `[::1]:9464`). Port 0 picks a free port. Default `127.0.0.1:9464`. */
  address?: string;
  /** Allow a non-loopback host. Default false. */
  allowRemote?: boolean;
}

/** A running metrics HTTP endpoint and where it listens. */
export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Parses `host:port`; returns undefined when malformed. */
export function parseHostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(address);
  if (!m) return undefined;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  if (m[2] !== undefined && /^[0-9.]+$/.test(host) && isIP(host) !== 4) return undefined;
  return { host, port };
}

/** Whether a host name/address is loopback-only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Serves `metrics` over HTTP.
 *
 * @example
 * ```ts
 * const s = await startMetricsServer(metrics, { address: '127.0.0.1:0' });
 * console.log(await (await fetch(`${s.url}/metrics`)).text());
 * await s.close();
 * ```
 */
export async function startMetricsServer(metrics: Metrics, opts: MetricsServerOptions = {}): Promise<MetricsServer> {
  const address = opts.address ?? DEFAULT_METRICS_ADDRESS;
  const hp = parseHostPort(address);
  if (!hp) {
    throw new ForgeError('configuration', `metrics address "${address}" is not a well-formed host:port (port 0-65535)`, {
      context: { field: 'metricsAddress', operation: 'startMetricsServer' },
    });
  }
  if (!isLoopbackHost(hp.host) && !opts.allowRemote) {
    throw new ForgeError('configuration', `metrics address ${address} is not loopback; set metricsAllowRemote to expose it`, {
      context: { field: 'metricsAddress', operation: 'startMetricsServer' },
      suggestions: ['Use 127.0.0.1:<port>, or set metricsAllowRemote: true (FORGE_METRICS_ALLOW_REMOTE=true) on purpose.'],
    });
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/metrics') {
      metrics.prometheusText().then(
        (t) => send(200, metrics.contentType, t),
        (e: unknown) => send(500, 'text/plain', String(e)),
      );
    } else if (path === '/metrics.json') {
      metrics.json().then(
        (j) => send(200, 'application/json', JSON.stringify(j)),
        (e: unknown) => send(500, 'text/plain', String(e)),
      );
    } else {
      send(404, 'text/plain', 'not found: try /metrics or /metrics.json\n');
    }
  });
  // Keep-alive sockets must not hold shutdown up.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(toForgeError(e, { operation: 'startMetricsServer', address })));
    server.listen(hp.port, hp.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : hp.port;
  const urlHost = hp.host.includes(':') ? `[${hp.host}]` : hp.host;
  return {
    host: hp.host,
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
