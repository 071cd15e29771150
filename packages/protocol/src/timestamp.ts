const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/

function daysInMonth (year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * Milliseconds since the epoch of an RFC 3339 date-time (`2025-07-12T01:23:45Z`,
 * `2025-07-12T03:23:45.123+02:00`), or `undefined` if `value` is not one.
 * Leap seconds (`:60`) are accepted and count as the next second, as `Date` does.
 * Computed from the fields directly: every message carries a timestamp, so this is on the hot path.
 */
export function parseTimestamp (value: string): number | undefined {
  const m = RFC3339.exec(value)
  if (m === null) return undefined
  const year = Number(m[1]); const month = Number(m[2]); const day = Number(m[3])
  const hour = Number(m[4]); const minute = Number(m[5]); const second = Number(m[6])
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 60) return undefined
  let offsetMin = 0
  if (m[8] !== undefined) {
    const oh = Number(m[9]); const om = Number(m[10])
    if (oh > 23 || om > 59) return undefined
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  // Milliseconds only: digits beyond the third are truncated, as Date.parse does.
  const ms = m[7] === undefined ? 0 : Number((m[7].slice(1) + '00').slice(0, 3))
  const utc = new Date(0)
  utc.setUTCFullYear(year, month - 1, day)
  utc.setUTCHours(hour, minute, second, ms)
  return utc.getTime() - offsetMin * 60_000
}

/** An RFC 3339 UTC timestamp with milliseconds, as every Bzzz message carries. */
export function formatTimestamp (ms: number = Date.now()): string {
  return new Date(ms).toISOString()
}
