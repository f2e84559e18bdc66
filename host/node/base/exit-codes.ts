/**
 * Process exit codes of the `forge` CLI and daemon (BSD sysexits where one fits).
 *
 * | code | name     | meaning                                                        |
 * |------|----------|----------------------------------------------------------------|
 * | 0    | OK       | clean run / clean graceful shutdown                            |
 * | 1    | RUNTIME  | runtime error (a command failed, a component failed, a stop hook threw) |
 * | 2    | FORCED   | forced shutdown: shutdown timeout exceeded or a second signal  |
 * | 64   | USAGE    | bad command line (EX_USAGE)                                    |
 * | 70   | INTERNAL | uncaught exception / unhandled rejection (EX_SOFTWARE)         |
 * | 78   | CONFIG   | invalid configuration; nothing was started (EX_CONFIG)         |
 *
 * @example
 * ```ts
 * import { EXIT_CODES } from 'forge-io';
 * process.exitCode = EXIT_CODES.CONFIG;
 * ```
 */
export const EXIT_CODES = Object.freeze({
  OK: 0,
  RUNTIME: 1,
  FORCED: 2,
  USAGE: 64,
  INTERNAL: 70,
  CONFIG: 78,
} as const);

/** The name of a process exit code (a key of {@link EXIT_CODES}). */
export type ExitCodeName = keyof typeof EXIT_CODES;
/** A process exit code Forge uses (a value of {@link EXIT_CODES}). */
export type ExitCode = (typeof EXIT_CODES)[ExitCodeName];

/** The name of a Forge exit code, e.g. `exitCodeName(78) === 'CONFIG'`; `undefined` for others. */
export function exitCodeName(code: number): ExitCodeName | undefined {
  for (const [name, value] of Object.entries(EXIT_CODES)) if (value === code) return name as ExitCodeName;
  return undefined;
}
