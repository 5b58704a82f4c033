/** The thank-you and order-status blocks: the order's points and the balance, under a fake `shopify`. */
import {describe, expect, it} from 'vitest';
import {signal} from '@preact/signals';
import {renderToString} from 'preact-render-to-string';
import {extensionGlobals, fakeApp, locale, serve, texts, visibleText} from '../../shared/checkout-fakes.ts';
import {loyaltyApi} from '../../shared/api.ts';
import {orderLines, orderModel, type OrderAnswer} from './order.ts';
import {thankYouApp} from './ThankYou.tsx';
import {orderStatusApp} from './OrderStatus.tsx';

const answer = (over: Partial<OrderAnswer> = {}): OrderAnswer => ({order: '#1001', status: 'pending', points: 120,
  pending_until: '2026-12-20', available: 0, balance: {available: 220, pending: 120}, ...over});

function thankYouShopify(lang: 'en' | 'fr', loggedIn = true) {
  (globalThis as any).shopify = {
    buyerIdentity: {customer: signal(loggedIn ? {id: 'gid://shopify/Customer/7'} : undefined)},
    orderConfirmation: signal({order: {id: 'gid://shopify/Order/5001'}, number: 'ABC', isFirstOrder: false}),
    sessionToken: {get: async () => 'ty-jwt'},
    i18n: texts(locale('loyalty-checkout', lang), lang),
  };
}

const answering = (body: unknown, status = 200) => serve({'GET /extensions/orders/5001': () => ({status, body})});

extensionGlobals();

describe('order points view-model', () => {
  it('says what the order earns for each status, then the balance', () => {
    expect(orderLines(answer()).map((l) => l.key)).toEqual(['order.pending', 'order.balance']);
    expect(orderLines(answer({status: 'available'}))[0]).toEqual({key: 'order.available', points: 120});
    expect(orderLines(answer({status: 'none', points: 0}))[0]).toEqual({key: 'order.none'});
    expect(orderLines(answer({status: 'processing'}))[0]).toEqual({key: 'order.processing'});
    expect(orderLines(answer())[1]).toEqual({key: 'order.balance', available: 220, pending: 120});
  });

  it('asks again while the app has not recorded the order yet, then shows it', async () => {
    const answers = [answer({status: 'processing', points: 0}), answer({status: 'processing', points: 0}), answer()];
    const app = fakeApp({'GET /extensions/orders/5001': () => ({status: 200, body: answers.shift()})});
    const waits: number[] = [];
    const model = orderModel(loyaltyApi('https://app.test', async () => 't', app.fetch), () => '5001', () => true,
      {wait: async (ms) => { waits.push(ms); }, delayMs: 3000});
    await model.load();
    expect(app.seen).toHaveLength(3);
    expect(waits).toEqual([3000, 3000]);
    expect(model.state.value).toMatchObject({phase: 'ready', answer: {status: 'pending', points: 120}});
  });

  it('stops asking after its retries and says the points are being counted', async () => {
    const app = fakeApp({'GET /extensions/orders/5001': () => ({status: 200, body: answer({status: 'processing', points: 0})})});
    const model = orderModel(loyaltyApi('https://app.test', async () => 't', app.fetch), () => '5001', () => true,
      {wait: async () => {}, retries: 2});
    await model.load();
    expect(app.seen).toHaveLength(3);
    expect(model.state.value).toMatchObject({phase: 'ready', answer: {status: 'processing'}});
  });
});

describe('thank-you block', () => {
  it('shows pending points with their date and the balance, in English', async () => {
    thankYouShopify('en');
    const app = answering(answer());
    const {model, element} = thankYouApp();
    await model.load();
    expect(visibleText(renderToString(element))).toBe(
      'Loyalty points This order earns 120 points, available on December 20, 2026. '
      + 'Your balance: 220 points available, 120 pending.');
    expect(app.seen[0]).toMatchObject({path: '/extensions/orders/5001', authorization: 'Bearer ty-jwt'});
  });

  it('shows points already available, in French, with the singular', async () => {
    thankYouShopify('fr');
    answering(answer({status: 'available', points: 1, pending_until: null, balance: {available: 221, pending: 0}}));
    const {model, element} = thankYouApp();
    await model.load();
    expect(visibleText(renderToString(element))).toBe(
      'Points de fidélité Cette commande t\'a rapporté 1 point : il est disponible. '
      + 'Ton solde : 221 points disponibles, 0 en attente.');
  });

  it('says plainly when an order earns nothing', async () => {
    thankYouShopify('en');
    answering(answer({status: 'none', points: 0, pending_until: null}));
    const {model, element} = thankYouApp();
    await model.load();
    expect(visibleText(renderToString(element))).toContain("This order doesn't earn loyalty points.");
  });

  it('invites a guest to sign in and calls nothing', async () => {
    thankYouShopify('en', false);
    const app = answering(answer());
    const {model, element} = thankYouApp();
    await model.load();
    expect(visibleText(renderToString(element))).toBe('Sign in to see the loyalty points this order earns.');
    expect(app.seen).toEqual([]);
  });

  it('treats a token without a customer (401) as signed out', async () => {
    thankYouShopify('en');
    answering({error: 'error.unauthorized', message: 'Sign in'}, 401);
    const {model} = thankYouApp();
    await model.load();
    expect(model.state.value).toEqual({phase: 'signed_out'});
  });
});

describe('order-status block', () => {
  function orderStatusShopify(authenticationState: string) {
    const logins: number[] = [];
    (globalThis as any).shopify = {
      buyerIdentity: {customer: signal({id: 'gid://shopify/Customer/7'})},
      order: signal({id: 'gid://shopify/Order/5001', name: '#1001'}),
      authenticationState: signal(authenticationState),
      requireLogin: async () => { logins.push(1); },
      sessionToken: {get: async () => 'os-jwt'},
      i18n: texts(locale('loyalty-checkout', 'en'), 'en'),
    };
    return logins;
  }

  it('shows the order\'s points to a signed-in customer', async () => {
    orderStatusShopify('fully_authenticated');
    const app = answering(answer({status: 'available'}));
    const {model, element} = orderStatusApp();
    await model.load();
    expect(visibleText(renderToString(element))).toContain('This order earned 120 points: they are available now.');
    expect(app.seen[0].authorization).toBe('Bearer os-jwt');
  });

  it('offers a customer who came from a link to sign in first', async () => {
    orderStatusShopify('pre_authenticated');
    const app = answering(answer());
    const {model, element} = orderStatusApp();
    await model.load();
    const out = renderToString(element);
    expect(visibleText(out)).toBe('Sign in to see the loyalty points this order earns. Sign in');
    expect(app.seen).toEqual([]);
  });
});
