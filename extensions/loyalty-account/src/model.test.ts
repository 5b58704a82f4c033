import {describe, expect, it} from 'vitest';
import {
  checkPoints, conversionView, expiryNote, historyKey, ladderView, pendingLots, rewardCards, termsLines, tierProgress,
  voucherCards, type Customer,
} from './model.ts';
import {conversionTerms, storeA, storeB} from './testing/pages.ts';

describe('rewards are judged on available points', () => {
  it('220 available, 520 lifetime: the 500 reward is short of 280 points and has no button', () => {
    const cards = rewardCards(storeA().customer!);
    const upcycled = cards.find((c) => c.reward.key === 'accessoire-upcycle')!;
    expect([upcycled.state, upcycled.missing, upcycled.canRedeem]).toEqual(['short', 280, false]);
    expect(cards.some((c) => c.canRedeem)).toBe(false);
  });

  it('without the app state, a reward is still judged on available points, never on lifetime', () => {
    const customer = storeA().customer!;
    customer.rewards = customer.rewards.map(({state, missing, ...r}) => r);
    const cards = rewardCards(customer);
    expect(cards.map((c) => [c.reward.points, c.state, c.missing])).toEqual([
      [300, 'short', 80], [300, 'short', 80], [500, 'short', 280], [500, 'short', 280]]);
  });

  it('a reward reserved to a tier is locked whatever the balance; redeemable ones come first', () => {
    const customer = storeA().customer!;
    customer.available = 600;
    customer.rewards = customer.rewards.map(({state, missing, ...r}) => r);
    customer.rewards[0].tier_required = 'Gold';
    const cards = rewardCards(customer);
    expect(cards.map((c) => [c.reward.key, c.state])).toEqual([
      ['don-association', 'redeemable'], ['accessoire-upcycle', 'redeemable'], ['culotte-offerte', 'redeemable'],
      ['carte-cadeau-10', 'tier_locked']]);
  });
});

describe('the ladder (store A)', () => {
  it('shows perks earned on confirmed lifetime points vs ahead, and the next threshold', () => {
    const ladder = ladderView(storeA())!;
    expect(ladder.earned.map((l) => l.perk.key)).toEqual(['anniversaire', 'avant-premiere']);
    expect(ladder.ahead.map((l) => [l.perk.key, l.pointsToGo])).toEqual([['ambassadrice', 480]]);
    expect(ladder.next).toEqual({threshold: 1000, toGo: 480});
    expect(ladder.progress).toEqual({value: 520, max: 1000});
  });

  it('a reached step does not make its rewards earned: they stay paid with available points', () => {
    const step = ladderView(storeA())!.steps.find((s) => s.points === 500)!;
    expect(step.reached).toBe(true);
    expect(step.perks).toEqual([]);
    expect(step.rewards.map((r) => r.state)).toEqual(['short', 'short']);
  });

  it('pending points do not climb the ladder', () => {
    const page = storeA();
    const customer = page.customer!;
    Object.assign(customer, {pending: 400, lifetime: 920, ladder_points: undefined, standing: undefined});
    customer.perks = customer.perks.map(({state, points_to_go, unlocked, ...p}) => p);
    const ladder = ladderView(page)!;
    expect(ladder.climbed).toBe(520);
    expect(ladder.next).toEqual({threshold: 1000, toGo: 480});
  });

  it('is absent for a programme without perks (store B)', () => {
    expect(ladderView(storeB())).toBeNull();
  });
});

describe('the convert box (store B)', () => {
  it('states every term of the voucher: minimum basket, full price only, validity, points lost', () => {
    const view = conversionView(storeB())!;
    expect(view.terms.map((l) => l.key)).toEqual([
      'terms.minimum_subtotal', 'terms.full_price_only', 'terms.validity_days', 'terms.one_per_order',
      'terms.no_combining', 'terms.points_lost_if_unused']);
    expect(view.terms[0].amounts).toEqual({amount: '100.00'});
    expect(view.terms[2].values).toEqual({count: 30});
  });

  it('starts empty: nothing typed is no error and no amount', () => {
    expect(checkPoints('', conversionView(storeB())!)).toEqual({ok: false, error: null});
  });

  it('accepts a whole number between the minimum and the available points, and says what it pays', () => {
    const view = conversionView(storeB())!;
    expect(checkPoints('400', view)).toEqual({ok: true, points: 400, amount: 40});
    expect(checkPoints('99', view)).toEqual({ok: false, error: {key: 'convert.error_minimum', points: {points: 100}}});
    expect(checkPoints('1251', view)).toEqual({ok: false, error: {key: 'convert.error_available', points: {points: 1250}}});
    expect(checkPoints('12.5', view)).toEqual({ok: false, error: {key: 'convert.error_whole'}});
  });

  it('cannot convert below the minimum', () => {
    const page = storeB();
    page.customer!.available = 60;
    expect(conversionView(page)!.canConvert).toBe(false);
  });

  it('is absent when the programme does not convert (store A)', () => {
    expect(conversionView(storeA())).toBeNull();
  });
});

describe('balances, expiry, vouchers, history', () => {
  it('says when points expire and how many (store B), or that they never do (store A)', () => {
    expect(expiryNote(storeB().customer!)).toEqual({kind: 'on', date: '2027-11-20', points: 1250});
    expect(expiryNote(storeA().customer!)).toEqual({kind: 'never'});
    const none: Customer = {...storeB().customer!, expiry: {policy: 'after_last_purchase', date: null, points: 0}};
    expect(expiryNote(none)).toBeNull();
  });

  it('lists pending lots soonest first, an undated one last', () => {
    const customer = storeB().customer!;
    customer.pending_points = [{order: '#3', points: 5, pending_until: null},
      {order: '#2', points: 10, pending_until: '2026-12-20'}, {order: '#1', points: 20, pending_until: '2026-12-10'}];
    expect(pendingLots(customer).map((l) => l.order)).toEqual(['#1', '#2', '#3']);
  });

  it('offers a copy button only for an active code, active vouchers first', () => {
    const customer = storeB().customer!;
    const voucher = (code: string | null, status: string) =>
      ({code, kind: 'voucher', status, points: 100, amount: '10.00', minimum_subtotal: null, ends_at: null});
    customer.vouchers = [voucher('USED1', 'used'), voucher(null, 'donated'), voucher('LIVE1', 'active')];
    expect(voucherCards(customer).map((c) => [c.voucher.status, c.copyable])).toEqual([
      ['active', true], ['used', false], ['donated', false]]);
  });

  it('names every history kind, an unknown one as an adjustment', () => {
    expect(historyKey('claw_back')).toBe('history.claw_back');
    expect(historyKey('something_new')).toBe('history.adjust');
  });

  it('gives the tier and the way to the next one', () => {
    const customer = storeB().customer!;
    customer.tier = {key: 'silver', name: 'Silver', until: '2027-06-01', basis: 'spent', figure: '320.00',
      next: {key: 'gold', name: 'Gold', threshold: '750.00', remaining: '430.00'}};
    expect(tierProgress(customer)).toEqual({name: 'Silver', until: '2027-06-01', basis: 'spent',
      next: {name: 'Gold', remaining: '430.00'}, progress: {value: 320, max: 750}});
  });

  it('has no terms line for what does not apply', () => {
    expect(termsLines({...conversionTerms, minimum_subtotal: null, full_price_only: false, one_per_order: false,
      points_lost_if_unused: false, combines_with_discounts: true, validity_days: null})).toEqual([]);
  });
});
