/**
 * Vitest setup (every test worker): on Node >= 24, keeps every better-sqlite3 object that a test
 * makes itself alive for the life of the worker.
 *
 * better-sqlite3 12 builds Database, Statement and StatementIterator on `node::ObjectWrap`, whose
 * destructor on Node >= 24 asserts that a JS context is current. One of them collected by a GC
 * that runs outside a context aborts the whole worker (`Assertion failed: (env) != nullptr`).
 * Forge's own code never lets them become garbage (host/node/index-db/statements.ts); tests that
 * read an index with SQL of their own (`new Database(...).prepare(...)`, `pragma`, `iterate`)
 * get the same rule here, so a test run on Node 24 cannot die of it. Nothing changes on Node 20/22.
 */
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { retainSqliteObjects } from '../../host/node/index-db/statements.js';

const retained = new Set<unknown>();

if (retainSqliteObjects) {
  const require = createRequire(import.meta.url);
  const { cppdb } = require('better-sqlite3/lib/util') as { cppdb: symbol };
  const probe = new Database(':memory:');
  const native = (probe as unknown as Record<symbol, object>)[cppdb] as object;
  const statement = probe.prepare('SELECT 1');
  for (const o of [probe, native, statement]) retained.add(o);
  type Method = (this: unknown, ...args: unknown[]) => unknown;
  const keep = (proto: Record<string, unknown>, name: string): void => {
    const original = proto[name] as Method;
    proto[name] = function (this: unknown, ...args: unknown[]): unknown {
      retained.add(this);
      const result = original.apply(this, args);
      if (typeof result === 'object' && result !== null) retained.add(result);
      return result;
    };
  };
  const dbProto = Object.getPrototypeOf(native) as Record<string, unknown>;
  for (const name of ['prepare', 'exec', 'close']) keep(dbProto, name);
  keep(Object.getPrototypeOf(statement) as Record<string, unknown>, 'iterate');
}
