/**
 * Page JSON of contract A (GET /extensions/customer) for the seed stores, written by hand the way the app
 * answers: store A (French, perks at 150/300/500/1000, 220 available for 520 lifetime) and store B
 * (English, points converted into a voucher: 100 EUR basket, full price only, 30 days, points lost if unused).
 */
import type {LoyaltyPage, Terms} from '../model.ts';

const giftTerms: Terms = {
  validity_days: null, minimum_subtotal: null, full_price_only: false, one_per_order: true,
  points_lost_if_unused: false, combines_with_discounts: true,
};
const itemTerms: Terms = {...giftTerms, validity_days: 30};

export function storeA(): LoyaltyPage {
  const reward = (key: string, kind: string, points: number, title: string, terms: Terms) =>
    ({key, kind, points, title, description: null, amount: '10.00', terms});
  const rewards = [
    reward('carte-cadeau-10', 'gift_card', 300, '10 € en carte cadeau', giftTerms),
    reward('don-association', 'donation', 300, 'Ou un don de 10 € à une association', giftTerms),
    reward('accessoire-upcycle', 'free_item', 500, 'Un accessoire upcyclé offert', itemTerms),
    reward('culotte-offerte', 'free_item', 500, 'Une culotte offerte parmi une sélection', itemTerms),
  ];
  const perk = (key: string, points: number, title: string, earned: boolean) => ({
    key, kind: 'perk', points, title, description: null, unlocked: earned,
    state: earned ? 'earned' as const : 'ahead' as const, points_to_go: earned ? 0 : points - 520,
  });
  return {
    currency: 'EUR',
    programme: {
      language: 'fr',
      ladder: [
        {points: 150, rewards: [
          {key: 'anniversaire', kind: 'perk', points: 150, title: 'Une surprise pour ton anniversaire'},
          {key: 'avant-premiere', kind: 'perk', points: 150, title: 'Accès en avant-première'}]},
        {points: 300, rewards: rewards.slice(0, 2)},
        {points: 500, rewards: rewards.slice(2)},
        {points: 1000, rewards: [{key: 'ambassadrice', kind: 'perk', points: 1000, title: 'Programme ambassadrice'}]},
      ],
      conversion: null,
    },
    customer: {
      available: 220, pending: 0, lifetime: 520, ladder_points: 520,
      standing: {next_threshold: 1000, points_to_next: 480},
      perks: [
        perk('anniversaire', 150, 'Une surprise pour ton anniversaire', true),
        perk('avant-premiere', 150, 'Accès en avant-première', true),
        perk('ambassadrice', 1000, 'Programme ambassadrice', false),
      ],
      rewards: rewards.map((r) => ({...r, state: 'short' as const, missing: r.points - 220, tier_required: null})),
      tier: null,
      expiry: {policy: 'never', date: null, points: 0},
      pending_points: [],
      history: [{kind: 'redeem', points: -300, effective_at: '2026-10-02T09:00:00+00:00', order: null},
        {kind: 'earn', points: 520, effective_at: '2026-09-01T09:00:00+00:00', order: '#1001'}],
      vouchers: [],
    },
    token: 'form-a1',
  };
}

export const conversionTerms: Terms = {
  validity_days: 30, minimum_subtotal: '100.00', full_price_only: true, one_per_order: true,
  points_lost_if_unused: true, combines_with_discounts: false,
};

export function storeB(): LoyaltyPage {
  return {
    currency: 'EUR',
    programme: {
      language: 'en', ladder: [],
      conversion: {minimum_points: 100, value_per_point: '0.1', minimum_subtotal: '100.00', validity_days: 30,
        terms: conversionTerms},
    },
    customer: {
      available: 1250, pending: 40, lifetime: 1390, ladder_points: 1350,
      standing: {next_threshold: null, points_to_next: null},
      perks: [], rewards: [], tier: null,
      expiry: {policy: 'after_last_purchase', date: '2027-11-20', points: 1250},
      pending_points: [{order: '#2002', points: 40, pending_until: '2026-12-18'}],
      history: [{kind: 'earn', points: 40, effective_at: '2026-12-04T10:00:00+00:00', order: '#2002'}],
      vouchers: [],
    },
    token: 'form-b1',
  };
}

/** The app's answer to a conversion of `points` in store B: the voucher and the page with a fresh token. */
export function storeBAfterConverting(points: number) {
  const page = storeB();
  const voucher = {
    code: 'LOYAL-7Q2K', kind: 'voucher', reward: null, status: 'active', points,
    amount: (points / 10).toFixed(2), minimum_subtotal: '100.00', ends_at: '2027-01-05T10:00:00+00:00',
    created_at: '2026-12-06T10:00:00+00:00', percentage: null, reason: null,
  };
  page.customer!.available -= points;
  page.customer!.vouchers = [voucher];
  page.customer!.history.unshift({kind: 'redeem', points: -points, effective_at: voucher.created_at, order: null});
  page.customer!.expiry!.points = page.customer!.available;
  return {result: {voucher}, ...page, token: 'form-b2'};
}
