/** The profile block: available points, the tier (or ladder step) and a link to the Loyalty page. */
import {useEffect} from 'preact/hooks';
import {points, t} from './host.ts';
import {ladderView, tierProgress} from './model.ts';
import type {AccountStore} from './store.ts';
import {useStore} from './useStore.ts';

/** The Loyalty page's address: the full-page extension's handle (shopify.extension.toml). */
export const PAGE_URL = 'extension://loyalty-account-page';

export function ProfileSummary({store}: {store: AccountStore}) {
  const state = useStore(store);
  useEffect(() => {
    if (state.status === 'loading' && !state.page) void store.load();
  }, [store]);
  const customer = state.page?.customer;
  let body;
  if (state.status === 'loading') {
    body = <s-skeleton-paragraph />;
  } else if (!customer) {
    body = <s-text color="subdued">{state.error || t('block.unavailable')}</s-text>;
  } else {
    const tier = tierProgress(customer);
    const ladder = ladderView(state.page!);
    body = (
      <s-stack gap="small-200">
        <s-heading>{t('block.available', {points: points(customer.available)})}</s-heading>
        {customer.pending > 0 && <s-text color="subdued">{t('block.pending', {points: points(customer.pending)})}</s-text>}
        {tier?.name && <s-text>{t('tier.current', {tier: tier.name})}</s-text>}
        {ladder?.next && (
          <s-text>{t('ladder.next', {points: points(ladder.next.toGo), threshold: points(ladder.next.threshold)})}</s-text>
        )}
      </s-stack>
    );
  }
  return (
    <s-section heading={t('block.heading')}>
      <s-stack gap="base">
        {body}
        <s-link href={PAGE_URL}>{t('block.link')}</s-link>
      </s-stack>
    </s-section>
  );
}
