/** The profile block rendered to a string: balance, tier or next threshold, and the link to the page. */
import {renderToString} from 'preact-render-to-string';
import {beforeEach, describe, expect, it} from 'vitest';
import {PAGE_URL, ProfileSummary} from './ProfileSummary.tsx';
import {fakeApp, installShopify, pts, storeFor, tr} from './testing/fake.ts';
import {storeA, storeB} from './testing/pages.ts';

beforeEach(() => {
  installShopify();
});

async function block(routes: Parameters<typeof fakeApp>[0]) {
  const {store} = storeFor(fakeApp(routes));
  await store.load();
  return renderToString(<ProfileSummary store={store} />);
}

describe('the profile block', () => {
  it('shows the available and pending points, the tier, and links to the Loyalty page', async () => {
    const page = storeB();
    page.customer!.tier = {key: 'silver', name: 'Silver', until: null, basis: 'spent', figure: '320.00', next: null};
    const html = await block({'GET /extensions/customer': [200, page]});
    expect(html).toContain(tr('block.available', {points: pts(1250)}));
    expect(html).toContain(tr('block.pending', {points: pts(40)}));
    expect(html).toContain(tr('tier.current', {tier: 'Silver'}));
    expect(html).toContain(`<s-link href="${PAGE_URL}">block.link</s-link>`);
    expect(PAGE_URL).toBe('extension://loyalty-account-page');
  });

  it('shows the next threshold of the ladder (store A), counted on available points for the balance', async () => {
    const html = await block({'GET /extensions/customer': [200, storeA()]});
    expect(html).toContain(tr('block.available', {points: pts(220)}));
    expect(html).toContain(tr('ladder.next', {points: pts(480), threshold: pts(1000)}));
    expect(html).not.toContain('block.pending');
  });

  it('shows a skeleton while loading and a quiet message with the link when the app cannot answer', async () => {
    const {store} = storeFor(fakeApp({}));
    expect(renderToString(<ProfileSummary store={store} />)).toContain('<s-skeleton-paragraph');
    const html = await block({'GET /extensions/customer': [500, {error: 'error.internal', message: 'Oops'}]});
    expect(html).toContain('Oops');
    expect(html).toContain(`href="${PAGE_URL}"`);
  });
});
