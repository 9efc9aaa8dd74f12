const ISO_DURATION =
  /^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Calendar units as fixed lengths: a year is 365 days, a month 30. */
const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/** Milliseconds in an ISO 8601 duration such as PT5S, PT1M30S or P1DT2H; NaN when it is not one. */
export function parseDuration(text: string): number {
  const m = ISO_DURATION.exec(text);
  if (!m) return Number.NaN;
  return Math.round(m.slice(1).reduce((ms, part, i) => ms + Number(part ?? 0) * UNIT_MS[i], 0));
}
