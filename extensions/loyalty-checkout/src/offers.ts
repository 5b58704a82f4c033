/**
 * What the checkout block offers a logged-in customer, read from the loyalty page JSON (contract A of
 * docs/extensions-api.md): pure functions, no UI, no locale. Texts are message keys with their values
 * (`Message`), translated by the component through shopify.i18n.
 */

import type {Said} from '../../shared/checkout-i18n.ts';
import type {Terms} from '../../shared/contract.ts';

export type {Terms};

/** A text to show: a key of locales/*.json and the values it interpolates. */
export type Message = Exclude<Said, string>;

/** A catalogue reward the customer can take at checkout: it gives a discount code. */
export type RewardOffer = {
  type: 'reward'; key: string; title: string; points: number; terms: Terms | null;
};

/** Points converted into a voucher (store B): between `min` and `max` points, worth `valuePerPoint` each. */
export type ConversionOffer = {
  type: 'conversion'; min: number; max: number; valuePerPoint: string; terms: Terms | null;
};

/** What the checkout offers; `elsewhere` counts the rewards the customer can afford that are taken on the
 * account page's Loyalty page only. */
export type Offers = {
  available: number; currency: string; rewards: RewardOffer[]; conversion: ConversionOffer | null; elsewhere: number;
};

/** Reward kinds the app mints as a discount code at checkout (POST /extensions/checkout/redeem refuses the
 * others with `not_a_code`): a gift card could not be given back once partly spent, a donation or store
 * credit has no code, and a free item the customer picks needs the account page to choose it. */
const CODE_KINDS = new Set(['voucher', 'percentage', 'free_shipping', 'free_item']);

/** True when redeeming `reward` gives a discount code the checkout can take. */
function givesCode(reward: any): boolean {
  return CODE_KINDS.has(reward.kind) && !reward.customer_picks;
}

/** A reward's state: contract A's `state`, read from today's `affordable`/`tier_required` when absent. */
export function rewardState(reward: any): 'redeemable' | 'short' | 'tier_locked' {
  if (reward.state) return reward.state;
  if (reward.tier_required) return 'tier_locked';
  return reward.affordable ? 'redeemable' : 'short';
}

/** The rewards and the conversion this customer can afford now, on AVAILABLE points (pending points
 * cannot be spent), limited to what can be applied to a checkout. */
export function checkoutOffers(page: any): Offers {
  const customer = page?.customer ?? {};
  const available = Number(customer.available ?? 0);
  const redeemable = (customer.rewards ?? []).filter((r: any) => rewardState(r) === 'redeemable');
  const rewards: RewardOffer[] = redeemable.filter(givesCode)
    .map((r: any) => ({type: 'reward', key: r.key, title: r.title, points: r.points, terms: r.terms ?? null}));
  const conv = page?.programme?.conversion;
  const conversion: ConversionOffer | null = conv && available >= conv.minimum_points
    ? {type: 'conversion', min: conv.minimum_points, max: available, valuePerPoint: String(conv.value_per_point),
      terms: conv.terms ?? legacyTerms(conv)}
    : null;
  return {available, currency: page?.currency ?? 'EUR', rewards, conversion,
    elsewhere: redeemable.length - rewards.length};
}

/** The conversion's terms from today's fields, until contract A's `terms` is there. */
function legacyTerms(conv: any): Terms {
  return {validity_days: conv.validity_days ?? null, minimum_subtotal: conv.minimum_subtotal ?? null,
    full_price_only: false, one_per_order: false, points_lost_if_unused: false, combines_with_discounts: true};
}

/** What converting `points` pays at `valuePerPoint` ("0.1"), floored to the cent as the app does, in whole
 * cents so that 0.1 x 3 stays 0.30. */
export function conversionValue(points: number, valuePerPoint: string): number {
  const [whole, fraction = ''] = valuePerPoint.split('.');
  const scale = 10 ** fraction.length;
  const centsPerPointScaled = (Number(whole) * scale + Number(fraction || 0)) * 100;
  return Math.floor((points * centsPerPointScaled) / scale) / 100;
}

/** A number of points to convert, clamped to the offer's range (whole points). */
export function clampPoints(offer: ConversionOffer, value: number): number {
  if (!Number.isFinite(value)) return offer.min;
  return Math.min(offer.max, Math.max(offer.min, Math.floor(value)));
}

/** The conditions stated where the customer decides. At checkout the code is minted for this checkout:
 * if it goes unused the app gives the points back, whatever the voucher's usual rule. */
export function termsMessages(terms: Terms | null, money: (amount: number) => string): Message[] {
  const lines: Message[] = [];
  if (terms?.minimum_subtotal) lines.push({key: 'checkout.terms.minimum', vars: {amount: money(Number(terms.minimum_subtotal))}});
  if (terms?.full_price_only) lines.push({key: 'checkout.terms.full_price'});
  if (terms?.one_per_order) lines.push({key: 'checkout.terms.one_per_order'});
  if (terms && !terms.combines_with_discounts) lines.push({key: 'checkout.terms.no_combination'});
  lines.push({key: 'checkout.terms.given_back'});
  return lines;
}

/** True when the basket is below the code's minimum subtotal: the code would not apply, so the block does
 * not offer to spend points on it. */
export function belowMinimum(terms: Terms | null, subtotal: number | null): boolean {
  if (!terms?.minimum_subtotal || subtotal === null) return false;
  return subtotal < Number(terms.minimum_subtotal);
}

/** Why codes cannot be applied to this checkout (null: they can). Discount codes need the cart
 * instruction `discounts.canUpdateDiscountCodes` (false e.g. in an accelerated checkout, or when the
 * merchant's checkout forbids it). Calling the app needs the `network_access` capability granted to the
 * extension. */
export function blocked(canUpdateDiscountCodes: boolean, capabilities: readonly string[]): Message | null {
  if (!capabilities.includes('network_access')) return {key: 'checkout.unavailable'};
  if (!canUpdateDiscountCodes) return {key: 'checkout.codes_disabled'};
  return null;
}
