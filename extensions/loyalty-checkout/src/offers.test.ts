import {describe, expect, it} from 'vitest';
import {belowMinimum, blocked, checkoutOffers, clampPoints, conversionValue, rewardState, termsMessages} from './offers.ts';
import {storeAPage, storeBPage} from './fixtures.ts';

describe('checkout offers', () => {
  it('offers store B the conversion from its minimum up to the AVAILABLE points, never the pending ones', () => {
    const offers = checkoutOffers(storeBPage(220));
    expect(offers.conversion).toMatchObject({min: 100, max: 220, valuePerPoint: '0.1'});
    expect(offers.available).toBe(220);
  });

  it('offers no conversion below its minimum', () => {
    expect(checkoutOffers(storeBPage(99)).conversion).toBeNull();
  });

  it('offers only affordable rewards that give a discount code: never a gift card, a donation or a reward short of points', () => {
    const offers = checkoutOffers(storeAPage(320));
    expect(offers.rewards).toEqual([]);
    expect(offers.elsewhere).toBe(2); // the gift card and the donation: on the account page only
  });

  it('offers a voucher, a percentage, free shipping and a free item the shop picks, never an item the customer picks', () => {
    const reward = (key: string, kind: string, extra = {}) => ({key, kind, points: 100, title: key, state: 'redeemable', ...extra});
    const page = {customer: {available: 500, rewards: [reward('v', 'voucher'), reward('p', 'percentage'),
      reward('s', 'free_shipping'), reward('i', 'free_item'), reward('pick', 'free_item', {customer_picks: true}),
      reward('g', 'gift_card'), reward('c', 'store_credit')]}};
    const offers = checkoutOffers(page);
    expect(offers.rewards.map((r) => r.key)).toEqual(['v', 'p', 's', 'i']);
    expect(offers.elsewhere).toBe(3);
  });

  it('reads today\'s affordable/tier_required fields when the state is absent', () => {
    expect(rewardState({affordable: true})).toBe('redeemable');
    expect(rewardState({affordable: true, tier_required: 'Gold'})).toBe('tier_locked');
    expect(rewardState({affordable: false})).toBe('short');
  });

  it('values a conversion to the cent without float drift, floored like the app', () => {
    expect(conversionValue(3, '0.1')).toBe(0.3);
    expect(conversionValue(250, '0.1')).toBe(25);
    expect(conversionValue(101, '0.05')).toBe(5.05);
    expect(conversionValue(7, '0.033')).toBe(0.23);
  });

  it('clamps the points typed to the offer range', () => {
    const offer = checkoutOffers(storeBPage(220)).conversion!;
    expect([clampPoints(offer, 50), clampPoints(offer, 150.7), clampPoints(offer, 999), clampPoints(offer, NaN)])
      .toEqual([100, 150, 220, 100]);
  });

  it('states store B\'s terms where the customer decides, and that unused points come back', () => {
    const terms = checkoutOffers(storeBPage()).conversion!.terms;
    expect(termsMessages(terms, (n) => `${n} EUR`)).toEqual([
      {key: 'checkout.terms.minimum', vars: {amount: '100 EUR'}},
      {key: 'checkout.terms.full_price'},
      {key: 'checkout.terms.one_per_order'},
      {key: 'checkout.terms.no_combination'},
      {key: 'checkout.terms.given_back'},
    ]);
  });

  it('knows a basket below the code minimum', () => {
    const terms = checkoutOffers(storeBPage()).conversion!.terms;
    expect([belowMinimum(terms, 99.99), belowMinimum(terms, 100), belowMinimum(terms, null), belowMinimum(null, 1)])
      .toEqual([true, false, false, false]);
  });

  it('refuses codes when the checkout cannot take discount codes, and everything without network access', () => {
    expect(blocked(false, ['network_access'])).toEqual({key: 'checkout.codes_disabled'});
    expect(blocked(true, ['network_access'])).toBeNull();
    expect(blocked(true, [])).toEqual({key: 'checkout.unavailable'});
  });
});
