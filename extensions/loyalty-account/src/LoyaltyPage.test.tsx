/** The page rendered to a string with a fake `shopify` global and a fake app: what a shopper would read. */
import {renderToString} from 'preact-render-to-string';
import {beforeEach, describe, expect, it} from 'vitest';
import {LoyaltyPage} from './LoyaltyPage.tsx';
import {fakeApp, installShopify, pts, storeFor, tr} from './testing/fake.ts';
import {storeA, storeB, storeBAfterConverting} from './testing/pages.ts';

beforeEach(() => {
  installShopify();
});

/** The attributes of the first `<tag ...>` in the html. */
function tagOf(html: string, tag: string): string {
  const match = new RegExp(`<${tag}\\b[^>]*>`).exec(html);
  return match ? match[0] : '';
}

async function loaded(page: unknown) {
  const app = fakeApp({'GET /extensions/customer': [200, page]});
  const {store} = storeFor(app);
  await store.load();
  return {app, store, html: () => renderToString(<LoyaltyPage store={store} />)};
}

/** Store B's page, loaded, with an app that converts any number of points. */
async function convertingStoreB() {
  const app = fakeApp({
    'GET /extensions/customer': [200, storeB()],
    'POST /extensions/customer/redeem': (body) => [200, storeBAfterConverting(body.points)],
  });
  const {store} = storeFor(app);
  await store.load();
  return {app, store};
}

describe('store B: converting points on the account page', () => {
  it('states the terms next to the button and does not pre-fill the number field', async () => {
    const {html} = await loaded(storeB());
    const page = html();
    const field = tagOf(page, 's-number-field');
    expect(field).toContain('label="convert.field"');
    expect(field).not.toMatch(/value="\d/);
    expect(field).toContain('min="100"');
    expect(field).toContain('max="1250"');
    const button = page.indexOf('convert.button');
    for (const term of [tr('terms.minimum_subtotal', {amount: 'EUR 100.00'}), 'terms.full_price_only',
      tr('terms.validity_days', {count: 30}), 'terms.points_lost_if_unused']) {
      const at = page.indexOf(term);
      expect(at, term).toBeGreaterThan(0);
      expect(at, `${term} is in the convert box, before its button`).toBeLessThan(button);
      expect(at).toBeGreaterThan(page.indexOf('convert.heading'));
    }
    expect(tagOf(page.slice(page.indexOf('convert.heading')), 's-button')).toContain('disabled');
  });

  it('says what the typed points pay, then converts with the form token and shows the code with a copy button', async () => {
    const {app, store} = await convertingStoreB();
    store.setPoints('400');
    const typed = renderToString(<LoyaltyPage store={store} />);
    expect(typed).toContain(tr('convert.pays', {points: pts(400), amount: 'EUR 40.00'}));
    expect(tagOf(typed.slice(typed.indexOf('convert.heading')), 's-button')).not.toContain('disabled');

    await store.convert(400);
    const post = app.sent.find((s) => s.method === 'POST')!;
    expect(post.url).toBe('/extensions/customer/redeem');
    expect(post.body).toEqual({points: 400, token: 'form-b1'});
    expect(post.authorization).toBe('Bearer session-token');

    const after = renderToString(<LoyaltyPage store={store} />);
    const made = after.slice(after.indexOf('page.made'));
    expect(made).toContain('LOYAL-7Q2K');
    expect(tagOf(made, 's-clipboard-item')).toContain('text="LOYAL-7Q2K"');
    const copy = tagOf(made, 's-clipboard-item').match(/id="([^"]+)"/)![1];
    expect(made).toMatch(new RegExp(`<s-button[^>]*commandFor="${copy}"`));
    expect(store.state.page!.token).toBe('form-b2');
    expect(tagOf(after, 's-number-field')).not.toMatch(/value="\d/);
    expect(after).toContain(tr('balances.available'));
    expect(after).toContain(pts(850));
  });

  it('a double click converts once: the second click sends nothing while the first is on its way', async () => {
    const {app, store} = await convertingStoreB();
    await Promise.all([store.convert(400), store.convert(400)]);
    expect(app.sent.filter((s) => s.method === 'POST')).toHaveLength(1);
    await store.convert(100);
    expect(app.sent.filter((s) => s.method === 'POST').map((s) => s.body.token)).toEqual(['form-b1', 'form-b2']);
  });

  it("shows the app's refusal as it is and keeps the token, so trying again cannot spend twice", async () => {
    const app = fakeApp({
      'GET /extensions/customer': [200, storeB()],
      'POST /extensions/customer/redeem': [422, {error: 'error.not_enough', message: 'You do not have enough points for this yet.'}],
    });
    const {store} = storeFor(app);
    await store.load();
    await store.convert(400);
    const page = renderToString(<LoyaltyPage store={store} />);
    expect(page).toContain('page.redeem_failed');
    expect(page).toContain('You do not have enough points for this yet.');
    expect(store.state.page!.token).toBe('form-b1');
    expect(store.state.made).toBeNull();
  });

  it('says when points expire and lists pending points with their dates', async () => {
    const page = (await loaded(storeB())).html();
    expect(page).toContain(tr('expiry.on', {points: pts(1250), date: '2027-11-20'}));
    expect(page).toContain(tr('balances.lot_order', {points: pts(40), date: '2026-12-18', order: '#2002'}));
  });
});

describe('store A: the ladder', () => {
  it('shows the perks earned and the next threshold', async () => {
    const page = (await loaded(storeA())).html();
    expect(page).toContain(tr('ladder.perk_earned', {title: 'Une surprise pour ton anniversaire'}));
    expect(page).toContain(tr('ladder.perk_ahead', {title: 'Programme ambassadrice', points: pts(480)}));
    expect(page).toContain(tr('ladder.next', {points: pts(480), threshold: pts(1000)}));
    expect(tagOf(page, 's-progress')).toMatch(/value="520"[^>]*max="1000"|max="1000"[^>]*value="520"/);
    expect(page).toContain(tr('expiry.never'));
  });

  it('220 available, 520 lifetime: the 500 reward is not redeemable and not shown as earned', async () => {
    const page = (await loaded(storeA())).html();
    const title = 'Un accessoire upcyclé offert';
    expect(page).toContain(tr('ladder.reward_to_redeem', {title, points: pts(500)}));
    expect(page).not.toContain(tr('ladder.perk_earned', {title}));
    expect(page).not.toContain(tr('ladder.reward_redeemable', {title, points: pts(500)}));
    const card = page.slice(page.indexOf('rewards.heading'));
    expect(card).toContain(tr('rewards.missing', {points: pts(280)}));
    expect(card).not.toContain('rewards.redeemable');
    expect(card).not.toContain('rewards.redeem{');
    expect(card).not.toContain('<s-button');
  });

  it('redeems an affordable reward with the form token and shows its code', async () => {
    const page = storeA();
    page.customer!.available = 320;
    page.customer!.rewards[0] = {...page.customer!.rewards[0], state: 'redeemable', missing: 0};
    const voucher = {code: 'CARTE-10', kind: 'gift_card', status: 'active', points: 300, amount: '10.00',
      minimum_subtotal: null, ends_at: null};
    const app = fakeApp({
      'GET /extensions/customer': [200, page],
      'POST /extensions/customer/redeem': [200, {...storeA(), result: {voucher}, token: 'form-a2'}],
    });
    const {store} = storeFor(app);
    await store.load();
    const before = renderToString(<LoyaltyPage store={store} />);
    expect(before).toContain(tr('rewards.redeem', {points: pts(300)}));
    await store.redeemReward('carte-cadeau-10');
    expect(app.sent.at(-1)!.body).toEqual({reward: 'carte-cadeau-10', token: 'form-a1'});
    const after = renderToString(<LoyaltyPage store={store} />);
    expect(tagOf(after, 's-clipboard-item')).toContain('text="CARTE-10"');
  });
});

describe('loading and errors', () => {
  it('shows a spinner while the page loads', () => {
    const {store} = storeFor(fakeApp({}));
    const page = renderToString(<LoyaltyPage store={store} />);
    expect(tagOf(page, 's-page')).toContain('heading="page.title"');
    expect(tagOf(page, 's-spinner')).toContain('accessibilityLabel="page.loading"');
  });

  it("shows the app's message when the page cannot be loaded, with a retry button", async () => {
    const {store} = storeFor(fakeApp({'GET /extensions/customer': [401, {error: 'unauthorized', message: 'Session expired'}]}));
    await store.load();
    const page = renderToString(<LoyaltyPage store={store} />);
    expect(tagOf(page, 's-banner')).toContain('tone="critical"');
    expect(page).toContain('Session expired');
    expect(page).toContain('page.retry');
  });

  it('says the app cannot be reached on a network failure', async () => {
    const shopify = installShopify();
    const {loyaltyApi} = await import('../../shared/api.ts');
    const {AccountStore} = await import('./store.ts');
    const store = new AccountStore(loyaltyApi('https://loyalty.test', () => shopify.sessionToken.get(),
      async () => { throw new TypeError('offline'); }));
    await store.load();
    expect(renderToString(<LoyaltyPage store={store} />)).toContain('page.unreachable');
  });

  it('lists vouchers with a copy button for active codes only', async () => {
    const page = storeB();
    page.customer!.vouchers = [
      {code: 'OLD-1', kind: 'voucher', status: 'used', points: 100, amount: '10.00', minimum_subtotal: '100.00', ends_at: null},
      {code: 'LIVE-1', kind: 'voucher', status: 'active', points: 200, amount: '20.00', minimum_subtotal: '100.00',
        ends_at: '2027-01-05'},
    ];
    const html = (await loaded(page)).html();
    const items = [...html.matchAll(/<s-clipboard-item[^>]*text="([^"]+)"/g)].map((m) => m[1]);
    expect(items).toEqual(['LIVE-1']);
    expect(html).toContain(tr('vouchers.until', {date: '2027-01-05'}));
    expect(html).toContain('OLD-1');
  });
});
