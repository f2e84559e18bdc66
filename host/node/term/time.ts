/** Times as the CLI prints them: local time with its UTC offset (`--utc`: UTC, marked Z). */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * `2026-12-03 10:11:42+01:00` in local time, or `2026-12-03 09:11:42Z` with `utc`.
 *
 * @example
 * ```ts
 * formatTime(Date.UTC(2026, 11, 3, 9, 11, 42), true); // '2026-12-03 09:11:42Z'
 * ```
 */
export function formatTime(ms: number, utc = false): string {
  const d = new Date(ms);
  if (utc)
    return d
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
  );
}
