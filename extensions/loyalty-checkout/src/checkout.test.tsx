/**
 * The checkout block end to end inside the extension: a fake `shopify` global (purchase.checkout.block.render)
 * and a fake app behind fetch; the block is rendered to a string in English and French.
 */
import {describe, expect, it} from 'vitest';
import {signal} from '@preact/signals';
import {renderToString} from 'preact-render-to-string';
import {extensionGlobals, locale, serve, texts, visibleText} from '../../shared/checkout-fakes.ts';
import {checkoutApp} from './Checkout.tsx';
import {storeAPage, storeBPage} from './fixtures.ts';

type Change = {type: string; code: string};

function fakeShopify({loggedIn = true, canUpdate = true, subtotal = 150, lang = 'en' as 'en' | 'fr',
  applyResult = {type: 'success'} as {type: 'success'} | {type: 'error'; message: string}} = {}) {
  const applied: Change[] = [];
  const shopify = {
    buyerIdentity: {customer: signal(loggedIn ? {id: 'gid://shopify/Customer/7'} : undefined)},
    instructions: signal({discounts: {canUpdateDiscountCodes: canUpdate}}),
    extension: {capabilities: signal(['network_access'])},
    cost: {subtotalAmount: signal({amount: subtotal, currencyCode: 'EUR'})},
    sessionToken: {get: async () => 'session-jwt'},
    i18n: texts(locale('loyalty-checkout', lang), lang),
    applyDiscountCodeChange: async (change: Change) => { applied.push(change); return applyResult; },
  };
  (globalThis as any).shopify = shopify;
  return {shopify, applied};
}

/** A fake app that mints one code per form token (as the app's idempotency does) and counts the codes. */
function storeBApp(page = storeBPage(220)) {
  const codes = new Map<string, string>();
  const app = serve({
    'GET /extensions/customer': () => ({status: 200, body: {...page, token: `form-${codes.size + 1}`}}),
    'POST /extensions/checkout/redeem': ({body}) => {
      if (!codes.has(body.token)) codes.set(body.token, `LOYAL-${codes.size + 1}`);
      return {status: 200, body: {result: {voucher: {code: codes.get(body.token), kind: 'voucher'}, checkout: true,
        expires_at: '2026-12-06T12:00:00+00:00'}}};
    },
  });
  return {...app, codes};
}

const html = (element: any) => visibleText(renderToString(element));
extensionGlobals();

describe('checkout block', () => {
  it('invites a logged-out buyer to sign in and calls nothing', async () => {
    fakeShopify({loggedIn: false});
    const app = storeBApp();
    const {model, element} = checkoutApp();
    await model.load();
    expect(html(element)).toBe('Sign in to your account to use your loyalty points on this order.');
    expect(app.seen).toEqual([]);
  });

  it('shows store B the available points, the conversion starting at its minimum and its terms', async () => {
    fakeShopify();
    const app = storeBApp();
    const {model, element} = checkoutApp();
    await model.load();
    const text = html(element);
    expect(text).toContain('You have 220 points available.');
    expect(text).toContain('100 points = €10.00');
    expect(text).toContain('Requires an order of at least €100.00.');
    expect(text).toContain('Applies to full-price items only.');
    expect(text).toContain("Can't be combined with other discounts.");
    expect(text).toContain("if it isn't used, your points are given back.");
    expect(app.seen[0]).toMatchObject({method: 'GET', path: '/extensions/customer', authorization: 'Bearer session-jwt'});
  });

  it('redeems and applies the code once: a double tap posts once with the form token and mints one code', async () => {
    const {applied} = fakeShopify();
    const app = storeBApp();
    const {model, element} = checkoutApp();
    await model.load();
    const first = model.redeem({points: 150}, '€15.00 voucher');
    const second = model.redeem({points: 150}, '€15.00 voucher');
    expect(renderToString(element)).toMatch(/<s-button(?=[^>]*\bloading\b)(?=[^>]*\bdisabled\b)/); // disabled while pending
    await Promise.all([first, second]);
    const posts = app.seen.filter((s) => s.method === 'POST');
    expect(posts).toEqual([expect.objectContaining({path: '/extensions/checkout/redeem', body: {points: 150, token: 'form-1'}})]);
    expect(app.codes.size).toBe(1);
    expect(applied).toEqual([{type: 'addDiscountCode', code: 'LOYAL-1'}]);
    expect(html(element)).toContain('€15.00 voucher applied to your order Code LOYAL-1 is applied.');
    await model.redeem({points: 100}, '€10.00 voucher'); // a later tap: nothing more is minted
    expect(app.seen.filter((s) => s.method === 'POST')).toHaveLength(1);
    expect(html(element)).not.toContain('Convert 100 points');
  });

  it('retries with the SAME form token after a lost answer, so the app hands back the code it minted', async () => {
    const {applied} = fakeShopify();
    const app = storeBApp();
    const {model, element} = checkoutApp();
    await model.load();
    const reliable = globalThis.fetch;
    (globalThis as any).fetch = async (url: string, init?: RequestInit) => {
      await reliable(url, init); // the app mints the code...
      throw new TypeError('connection reset'); // ...but the answer never arrives
    };
    await model.redeem({points: 100}, '€10.00 voucher');
    expect(html(element)).toContain('Please try again in a moment.');
    expect(applied).toEqual([]);
    (globalThis as any).fetch = reliable;
    await model.redeem({points: 100}, '€10.00 voucher');
    const tokens = app.seen.filter((s) => s.method === 'POST').map((s) => s.body.token);
    expect(tokens).toEqual(['form-1', 'form-1']);
    expect(app.codes.size).toBe(1);
    expect(applied).toEqual([{type: 'addDiscountCode', code: 'LOYAL-1'}]);
  });

  it('shows a code the checkout refused, to copy, and says the points come back if it goes unused', async () => {
    fakeShopify({applyResult: {type: 'error', message: 'Discount code not applicable'}});
    storeBApp();
    const {model, element} = checkoutApp();
    await model.load();
    await model.redeem({points: 100}, '€10.00 voucher');
    const out = renderToString(element);
    expect(visibleText(out)).toContain("Your code couldn't be applied to this checkout Your code is LOYAL-1");
    expect(visibleText(out)).toContain('your points are given back automatically when the code expires');
    expect(out).toContain('<s-clipboard-item id="loyalty-failed-code" text="LOYAL-1"');
    expect(out).toContain('<s-button variant="secondary" command="--copy" commandFor="loyalty-failed-code">Copy the code</s-button>');
  });

  it('says when this checkout cannot take discount codes, and spends nothing', async () => {
    const {applied} = fakeShopify({canUpdate: false});
    const app = storeBApp();
    const {model, element} = checkoutApp();
    await model.load();
    const out = renderToString(element);
    expect(visibleText(out)).toContain("Discount codes can't be added to this checkout");
    expect(out).toMatch(/<s-button[^>]*disabled/);
    await model.redeem({points: 100}, 'x');
    expect(app.seen.filter((s) => s.method === 'POST')).toEqual([]);
    expect(applied).toEqual([]);
  });

  it('does not offer the conversion on a basket below its minimum', async () => {
    fakeShopify({subtotal: 80});
    storeBApp();
    const {model, element} = checkoutApp();
    await model.load();
    const out = renderToString(element);
    expect(out).toMatch(/<s-button[^>]*disabled/);
    expect(out).toContain('<s-text tone="warning">Requires an order of at least €100.00.</s-text>');
  });

  it('never offers store A\'s gift card at checkout: it points to the account\'s Loyalty page instead, in French', async () => {
    fakeShopify({lang: 'fr'});
    const app = serve({'GET /extensions/customer': () => ({status: 200, body: storeAPage(320)})});
    const {model, element} = checkoutApp();
    await model.load();
    const out = renderToString(element);
    expect(visibleText(out)).toBe('Tes points de fidélité Tu as 320 points disponibles. '
      + 'Tes récompenses qui ne sont pas des codes de réduction, comme une carte cadeau ou un don, sont sur la page Fidélité de ton compte.');
    expect(out).not.toContain('<s-button');
    expect(app.seen.filter((s) => s.method === 'POST')).toEqual([]);
  });

  it('applies store A\'s free item as a discount code, and points to the Loyalty page for the gift card', async () => {
    const {applied} = fakeShopify({lang: 'fr'});
    const app = serve({
      'GET /extensions/customer': () => ({status: 200, body: storeAPage(520)}),
      'POST /extensions/checkout/redeem': () => ({status: 200, body: {result: {voucher: {code: 'FREE-3', kind: 'free_item'},
        checkout: true, expires_at: '2026-12-06T12:00:00+00:00'}}}),
    });
    const {model, element} = checkoutApp();
    await model.load();
    expect(html(element)).toContain('Un accessoire upcyclé offert');
    expect(html(element)).toContain('sont sur la page Fidélité de ton compte.');
    expect(renderToString(element).match(/<s-button/g)).toHaveLength(1); // the free item only
    await model.redeem({reward: 'accessoire-upcycle'}, 'Un accessoire upcyclé offert');
    expect(app.seen.filter((s) => s.method === 'POST').map((s) => s.body)).toEqual([{reward: 'accessoire-upcycle', token: 'form-a'}]);
    expect(applied).toEqual([{type: 'addDiscountCode', code: 'FREE-3'}]);
    expect(html(element)).toContain('Un accessoire upcyclé offert appliqué à ta commande');
  });

  it('points to the account\'s Loyalty page in English too, and says nothing is affordable only when nothing is', async () => {
    fakeShopify();
    serve({'GET /extensions/customer': () => ({status: 200, body: storeAPage(320)})});
    const {model, element} = checkoutApp();
    await model.load();
    expect(html(element)).toContain('such as a gift card or a donation, are on the Loyalty page of your account.');
    expect(html(element)).not.toContain("You don't have enough available points");
    serve({'GET /extensions/customer': () => ({status: 200, body: storeAPage(120)})});
    await model.load();
    expect(html(element)).toContain("You don't have enough available points for a reward yet.");
    expect(html(element)).not.toContain('Loyalty page');
  });

  it('shows the app\'s refusal in its own words and keeps the form token', async () => {
    fakeShopify();
    serve({
      'GET /extensions/customer': () => ({status: 200, body: storeBPage(220, 'form-7')}),
      'POST /extensions/checkout/redeem': () => ({status: 422, body: {error: 'error.not_enough_points', message: 'Not enough available points'}}),
    });
    const {model, element} = checkoutApp();
    await model.load();
    await model.redeem({points: 200}, 'x');
    expect(html(element)).toContain('Not enough available points');
    expect(model.state.value).toMatchObject({phase: 'ready', token: 'form-7', busy: false});
  });
});
