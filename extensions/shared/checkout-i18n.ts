/**
 * Texts of the checkout and POS extensions: Shopify translates them (shopify.i18n, from each extension's
 * locales/*.json, which Shopify serves: they are not bundled) and the app's own messages arrive already in
 * the programme's language. Dates of the app are days (`YYYY-MM-DD`).
 */

/** The part of shopify.i18n the extensions use (the same on checkout, customer account and POS). */
export interface Texts {
  translate(key: string, options?: Record<string, string | number>): string | unknown[];
  formatNumber(value: number, options?: Intl.NumberFormatOptions): string;
  formatCurrency(value: number, options?: Intl.NumberFormatOptions): string;
  formatDate(date: Date, options?: Intl.DateTimeFormatOptions): string;
}

/** A text to show: a key of locales/*.json and the values it interpolates, or the app's message as is. */
export type Said = {key: string; vars?: Record<string, string | number>} | string;

/** The text of `said` in the extension's language. */
export function say(i18n: Texts, said: Said): string {
  if (typeof said === 'string') return said;
  const text = i18n.translate(said.key, said.vars);
  return Array.isArray(text) ? text.join('') : String(text);
}

/** A day of the app (`2026-03-14`) as a Date at noon UTC, shown with `timeZone: 'UTC'`: the same day
 * everywhere. Null when missing or unreadable. */
export function dayOf(text: string | null | undefined): Date | null {
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(text ?? '');
  return day ? new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]), 12)) : null;
}

/** A day of the app as the customer reads it ("14 March 2026"), or '' when missing. */
export function sayDay(i18n: Texts, text: string | null | undefined): string {
  const date = dayOf(text);
  return date ? i18n.formatDate(date, {day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC'}) : '';
}
