/**
 * The `shopify` global the customer-account host gives each target (i18n, session token), read through
 * one typed door so the components can be rendered in tests with a fake one. Translations come from
 * locales/*.json (Shopify's native localization, never bundled in the JS); amounts and dates are formatted
 * in the customer's locale.
 */
import type {Api} from '@shopify/ui-extensions/customer-account.page.render';
import {amountOf, dateOf} from '../../shared/format.ts';
import type {Line} from './model.ts';

/** The part of the target API the extension uses (the page and the profile block share it). */
export type AccountHost = Pick<Api, 'i18n' | 'sessionToken'>;

export function host(): AccountHost {
  return (globalThis as unknown as {shopify: AccountHost}).shopify;
}

/** A translated text; `count` picks the plural form. */
export function t(key: string, values?: Record<string, string | number>): string {
  return host().i18n.translate(key, values);
}

export function points(count: number): string {
  return t('points', {count, formatted: host().i18n.formatNumber(count)});
}

export function money(amount: string | number | null | undefined, currency: string): string {
  return host().i18n.formatCurrency(amountOf(amount) ?? 0, {currency});
}

export function day(text: string | null | undefined): string {
  const date = dateOf(text);
  return date ? host().i18n.formatDate(date, {dateStyle: 'long'}) : '';
}

/** A line of the view model, translated, its amounts in the shop's currency. */
export function line(item: Line, currency: string): string {
  const amounts = Object.fromEntries(Object.entries(item.amounts ?? {}).map(([k, v]) => [k, money(v, currency)]));
  const counts = Object.fromEntries(Object.entries(item.points ?? {}).map(([k, v]) => [k, points(v)]));
  return t(item.key, {...item.values, ...amounts, ...counts});
}
