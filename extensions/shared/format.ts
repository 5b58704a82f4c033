/**
 * Reading the app's JSON values for display, with no UI and no locale: dates and amounts arrive as text
 * (`"2026-03-01"`, `"2026-03-01T10:00:00+00:00"`, `"100.00"`) and are turned into the values Shopify's
 * formatters (shopify.i18n.formatDate / formatCurrency) take.
 */

/** A date of the app: a day (`YYYY-MM-DD`, read as that day in the customer's time zone, never the day
 * before) or a full ISO timestamp; null for a missing or unreadable value. */
export function dateOf(text: string | null | undefined): Date | null {
  if (!text) return null;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const date = day ? new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** An amount of the app (`"100.00"`) as a number, or null. */
export function amountOf(text: string | number | null | undefined): number | null {
  if (text === null || text === undefined || text === '') return null;
  const value = typeof text === 'number' ? text : Number(text);
  return Number.isFinite(value) ? value : null;
}

/** What converting `points` pays at `valuePerPoint` (`"0.1"`), floored to the cent as the app does
 * (loyalty.domain.money.voucher_amount), computed in whole cents to avoid float drift. */
export function voucherAmount(points: number, valuePerPoint: string): number {
  const [whole, fraction = ''] = valuePerPoint.split('.');
  const scale = 10 ** fraction.length;
  const perPoint = Number(whole) * scale + Number(fraction || 0);
  return Math.floor((points * perPoint * 100) / scale) / 100;
}
