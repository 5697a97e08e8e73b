/**
 * Optuna stores naive local datetimes (Python's datetime.now()) as SQLAlchemy writes them:
 * "YYYY-MM-DD HH:MM:SS.ffffff". PostgreSQL sends them back as text with fewer fraction digits;
 * heartbeats (CURRENT_TIMESTAMP) have none.
 */
export function formatDatetime(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:` +
    `${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

export function parseDatetime(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(String(v));
  if (m === null) return null;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}
