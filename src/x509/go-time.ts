/**
 * UTCTime and GeneralizedTime exactly as cryptobyte (Go 1.19) accepts them, and Go's
 * time.Format(time.RFC3339), which the expiry error prints.
 *
 * cryptobyte parses with time.Parse and then requires that formatting the result with
 * the same layout gives back the input, so only canonical text survives: no fractional
 * seconds, "Z" rather than "+0000", two-digit fields. That round trip is what the
 * regular expressions and range checks below encode.
 */

/** An instant plus the UTC offset it was written with, which Go keeps for printing. */
export interface GoTime {
  ms: number;
  offsetMinutes: number;
}

const UTC_SECONDS = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{4})$/;
const UTC_MINUTES = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{4})$/;
const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{4})$/;

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Milliseconds since the epoch of a proleptic-Gregorian UTC wall time (any year). */
function utcMs(year: number, month: number, day: number, h: number, m: number, s: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(h, m, s, 0);
  return d.getTime();
}

function build(year: number, f: string[], zone: string): GoTime | undefined {
  const [month, day, hour, minute, second] = f.map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(3, 5));
    // time.Parse allows hours up to 24; a zero offset or minutes >= 60 print differently,
    // so the round trip rejects them.
    if (hh > 24 || mm >= 60 || (hh === 0 && mm === 0)) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hh * 60 + mm);
  }
  return { ms: utcMs(year, month, day, hour, minute, second) - offsetMinutes * 60_000, offsetMinutes };
}

/** ReadASN1UTCTime: second precision, else minute precision; years 50-99 are 19xx. */
export function parseUtcTime(text: string): GoTime | undefined {
  const withSeconds = UTC_SECONDS.exec(text);
  const match = withSeconds ?? UTC_MINUTES.exec(text);
  if (match === null) return undefined;
  const fields = match.slice(2, withSeconds === null ? 6 : 7);
  if (withSeconds === null) fields.push('00');
  const yy = Number(match[1]);
  // time.Parse maps 69-99 to 19xx and 00-68 to 20xx; cryptobyte then moves 2050-2068 back a
  // century. Leap years agree across that shift, so validating in the final year is the same.
  const year = yy >= 50 ? 1900 + yy : 2000 + yy;
  return build(year, fields, match[withSeconds === null ? 6 : 7] as string);
}

export function parseGeneralizedTime(text: string): GoTime | undefined {
  const match = GENERALIZED.exec(text);
  if (match === null) return undefined;
  return build(Number(match[1]), match.slice(2, 7), match[7] as string);
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** time.Format(time.RFC3339) for an instant shown in the given offset (whole seconds, no rounding). */
export function formatRfc3339(ms: number, offsetMinutes = 0): string {
  const d = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (offsetMinutes === 0) return `${date}T${time}Z`;
  const abs = Math.abs(offsetMinutes);
  return `${date}T${time}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}
