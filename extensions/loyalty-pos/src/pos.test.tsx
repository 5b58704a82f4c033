/** The POS customer block for store A's boutiques, under a fake `shopify` (pos.customer-details.block.render). */
import {describe, expect, it} from 'vitest';
import {renderToString} from 'preact-render-to-string';
import {extensionGlobals, locale, serve, texts, visibleText} from '../../shared/checkout-fakes.ts';
import {posView} from './customer.ts';
import {posApp} from './Block.tsx';

/** Store A (perks at 150 and 1000 lifetime points, ladder steps 150/300/500/1000, no VIP tiers), a customer
 * with 520 lifetime points of which 80 pending: ladder at 440 confirmed, step 300 reached, next at 500. */
const storeACustomer = {customer: {available: 220, pending: 80, lifetime: 520, tier: null,
  perks: [{key: 'anniversaire', title: 'Une surprise pour ton anniversaire', state: 'earned'},
    {key: 'avant-premiere', title: 'Accès en avant-première', state: 'earned'},
    {key: 'ambassadrice', title: 'Programme ambassadrice', state: 'ahead'}],
  standing: {tier: 300, next_threshold: 500, points_to_next: 60},
  expiry: {policy: 'never', date: null, points: 0}}};

function posShopify(lang: 'en' | 'fr', id: number | undefined = 42, token: string | null = 'pos-jwt') {
  (globalThis as any).shopify = {
    customer: {id}, session: {getSessionToken: async () => token ?? undefined},
    i18n: texts(locale('loyalty-pos', lang), lang),
  };
}

const answering = (status: number, body: unknown) => serve({'GET /extensions/pos/customers/42': () => ({status, body})});

extensionGlobals();

describe('POS view-model', () => {
  it('keeps the perks earned, the ladder step and the next threshold', () => {
    expect(posView(storeACustomer)).toEqual({available: 220, pending: 80, tier: null, step: 300,
      perks: ['Une surprise pour ton anniversaire', 'Accès en avant-première'], next: {threshold: 500, toGo: 60}, expiry: null});
  });

  it('names a VIP tier when the programme has tiers, and nothing ahead at the top', () => {
    const view = posView({customer: {...storeACustomer.customer, tier: {key: 'gold', name: 'Gold'},
      standing: {tier: 1000, next_threshold: null, points_to_next: null}, expiry: {policy: 'after_last_purchase', date: '2027-03-01', points: 220}}});
    expect([view.tier, view.next, view.expiry]).toEqual(['Gold', null, '2027-03-01']);
  });
});

describe('POS customer block', () => {
  it('shows store A staff the points, the step, the perks earned and the next threshold, in French', async () => {
    posShopify('fr');
    const app = answering(200, storeACustomer);
    const {model, element} = posApp();
    await model.load();
    const out = renderToString(element);
    expect(visibleText(out)).toBe('Fidélité 220 points disponibles 80 points en attente (pas encore utilisables) '
      + 'Palier atteint : 300 points Une surprise pour ton anniversaire Accès en avant-première '
      + 'Prochain palier à 500 points : encore 60');
    expect(out).toContain('<s-pos-block heading="Fidélité">');
    expect(app.seen).toEqual([expect.objectContaining({path: '/extensions/pos/customers/42', authorization: 'Bearer pos-jwt'})]);
  });

  it('says a customer is not in the programme yet (404)', async () => {
    posShopify('en');
    answering(404, {error: 'error.unknown_customer', message: 'Unknown customer'});
    const {model, element} = posApp();
    await model.load();
    expect(visibleText(renderToString(element))).toBe('Loyalty Not in the loyalty programme yet: points start with the first order.');
  });

  it('says the points could not be loaded without a session token (offline), without calling the app', async () => {
    posShopify('en', 42, null);
    const app = answering(200, storeACustomer);
    const {model, element} = posApp();
    await model.load();
    expect(visibleText(renderToString(element))).toContain('Loyalty points could not be loaded.');
    expect(app.seen).toEqual([]);
  });

  it('shows no perks plainly, in English', async () => {
    posShopify('en');
    answering(200, {customer: {available: 0, pending: 40, lifetime: 40, tier: null, perks: [],
      standing: {tier: 0, next_threshold: 150, points_to_next: 150}, expiry: null}});
    const {model, element} = posApp();
    await model.load();
    expect(visibleText(renderToString(element))).toBe('Loyalty 0 points available 40 points pending (not yet spendable) '
      + 'No perks earned yet Next level at 150 points: 150 to go');
  });
});
