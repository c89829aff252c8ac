// @ts-check
/**
 * The API speaks RFC 3339 UTC; people type local dates and times.
 */

/** @param {number} n */
const two = (n) => String(n).padStart(2, '0');

/**
 * `2027-01-31` and `09:30` of an instant, in local time.
 * @param {string | null} iso
 * @returns {{ date: string, time: string }}
 */
export function localParts(iso) {
  if (!iso) return { date: '', time: '' };
  const at = new Date(iso);
  return { date: `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`, time: `${two(at.getHours())}:${two(at.getMinutes())}` };
}

/**
 * The instant of a local date and time (09:00 when no time is given), or null for no date.
 * @param {string} date `YYYY-MM-DD`
 * @param {string} time `HH:MM`
 * @returns {string | null}
 */
export function fromLocal(date, time) {
  if (!date) return null;
  const at = new Date(`${date}T${time || '09:00'}`);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/**
 * A short local rendering: "Mon 31 Jan, 09:30".
 * @param {string} iso
 */
export function describe(iso) {
  return new Date(iso).toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/**
 * Where an instant falls for the due filters.
 * @param {string | null} iso
 * @param {Date} now
 * @returns {'none' | 'overdue' | 'today' | 'week' | 'later'}
 */
export function dueBucket(iso, now) {
  if (!iso) return 'none';
  const at = new Date(iso);
  if (at < now) return 'overdue';
  const endOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (at < endOfToday) return 'today';
  const inAWeek = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 8);
  return at < inAWeek ? 'week' : 'later';
}
