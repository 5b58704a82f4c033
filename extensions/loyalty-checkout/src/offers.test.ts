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

  it('offers only affordable rewards that give a code: a gift card yes, a donation never, a reward short of points never', () => {
    const offers = checkoutOffers(storeAPage(320));
    expect(offers.rewards.map((r) => [r.key, r.channel])).toEqual([['carte-cadeau-10', 'gift_card']]);
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

  it('refuses discount codes when the checkout cannot take them, gift cards still go, nothing without network access', () => {
    expect(blocked('discount', false, ['network_access'])).toEqual({key: 'checkout.codes_disabled'});
    expect(blocked('gift_card', false, ['network_access'])).toBeNull();
    expect(blocked('discount', true, ['network_access'])).toBeNull();
    expect(blocked('discount', true, [])).toEqual({key: 'checkout.unavailable'});
  });
});
