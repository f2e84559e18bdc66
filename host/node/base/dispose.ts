/**
 * `Symbol.dispose` and `Symbol.asyncDispose` where the runtime lacks them, so `await using` works on
 * every supported Node: Node 20 releases before 20.4 (and some other hosts) do not define them. The
 * symbols are the registered ones Node itself uses, so objects built before and after agree.
 *
 * @example
 * ```ts
 * import 'forge-io/core'; // every entry point installs the polyfill first
 * class Resource { async [Symbol.asyncDispose]() {} }
 * await using resource = new Resource();
 * ```
 */
const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for('nodejs.dispose');
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');

export {};
