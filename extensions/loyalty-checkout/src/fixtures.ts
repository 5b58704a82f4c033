/**
 * Loyalty page JSON (contract A) for the tests, shaped as the app answers GET /extensions/customer for the
 * two seed stores: store B converts points into a voucher (100 EUR minimum basket, full-price items only,
 * no combination); store A spends points on its ladder rewards.
 */
const STORE_B_TERMS = {validity_days: 30, minimum_subtotal: '100.00', full_price_only: true, one_per_order: true,
  points_lost_if_unused: true, combines_with_discounts: false};

export function storeBPage(available = 220, token = 'form-1') {
  return {
    shop: 'store-b.myshopify.com', currency: 'EUR', token,
    programme: {language: 'en', ladder: [], conversion: {minimum_points: 100, minimum_value: '10.00',
      value_per_point: '0.1', minimum_subtotal: '100.00', validity_days: 30, terms: STORE_B_TERMS}},
    customer: {available, pending: 300, lifetime: 520, rewards: [], perks: [],
      expiry: {policy: 'after_last_purchase', date: '2027-03-01', points: available}},
  };
}

const NO_TERMS = {validity_days: null, minimum_subtotal: null, full_price_only: false, one_per_order: false,
  points_lost_if_unused: false, combines_with_discounts: true};

export function storeAPage(available = 320, token = 'form-a') {
  const reward = (key: string, kind: string, points: number, title: string, extra = {}) => ({
    key, kind, points, title, terms: NO_TERMS, state: available >= points ? 'redeemable' : 'short',
    missing: Math.max(0, points - available), ...extra});
  return {
    shop: 'store-a.myshopify.com', currency: 'EUR', token,
    programme: {language: 'fr', ladder: [], conversion: null},
    customer: {available, pending: 0, lifetime: 520, perks: [], rewards: [
      reward('carte-cadeau-10', 'gift_card', 300, '10 € en carte cadeau'),
      reward('don-association', 'donation', 300, 'Ou un don de 10 € à une association'),
      reward('accessoire-upcycle', 'free_item', 500, 'Un accessoire upcyclé offert'),
    ]},
  };
}
