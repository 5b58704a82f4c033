/** The full "Loyalty" page: loading and error states, the code just made, then balances, ladder or tier,
 * rewards or the convert box, vouchers and history. */
import {useEffect} from 'preact/hooks';
import {t} from './host.ts';
import {conversionView, ladderView, rewardCards, tierProgress, voucherCards} from './model.ts';
import type {AccountStore} from './store.ts';
import {useStore} from './useStore.ts';
import {Balances} from './components/Balances.tsx';
import {Convert} from './components/Convert.tsx';
import {History} from './components/History.tsx';
import {Ladder} from './components/Ladder.tsx';
import {Rewards} from './components/Rewards.tsx';
import {Tier} from './components/Tier.tsx';
import {CopyCode, VoucherLine, Vouchers} from './components/Vouchers.tsx';

export function LoyaltyPage({store}: {store: AccountStore}) {
  const state = useStore(store);
  useEffect(() => {
    if (state.status === 'loading' && !state.page) void store.load();
  }, [store]);
  const page = state.page;
  const heading = page?.branding?.programme_name || t('page.title');
  if (state.status === 'loading') {
    return (
      <s-page heading={heading}>
        <s-section>
          <s-stack gap="base" alignItems="center">
            <s-spinner accessibilityLabel={t('page.loading')} />
            <s-skeleton-paragraph />
          </s-stack>
        </s-section>
      </s-page>
    );
  }
  if (state.status === 'error' || !page) {
    return (
      <s-page heading={heading}>
        <s-banner tone="critical" heading={t('page.load_failed')}>
          <s-stack gap="base">
            <s-text>{state.error || t('page.unreachable')}</s-text>
            <s-button onClick={() => store.load()}>{t('page.retry')}</s-button>
          </s-stack>
        </s-banner>
      </s-page>
    );
  }
  const customer = page.customer;
  if (!customer) {
    return <s-page heading={heading}><s-banner tone="info">{t('page.signed_out')}</s-banner></s-page>;
  }
  const ladder = ladderView(page);
  const tier = tierProgress(customer);
  const conversion = conversionView(page);
  return (
    <s-page heading={heading}>
      <s-stack gap="base">
        {state.error !== null && (
          <s-banner tone="critical" heading={t('page.redeem_failed')}>{state.error || t('page.unreachable')}</s-banner>
        )}
        {state.made && (
          <s-banner tone="success" heading={t('page.made')}>
            <s-stack gap="small-200">
              {state.made.code ? <CopyCode code={state.made.code} id="loyalty-code-made" /> : null}
              <VoucherLine voucher={state.made} currency={page.currency} />
            </s-stack>
          </s-banner>
        )}
        <Balances customer={customer} />
        {ladder && <Ladder ladder={ladder} />}
        {tier && <Tier tier={tier} currency={page.currency} />}
        {conversion && <Convert view={conversion} store={store} currency={page.currency} />}
        <Rewards cards={rewardCards(customer)} store={store} currency={page.currency} />
        <Vouchers cards={voucherCards(customer)} currency={page.currency} />
        <History customer={customer} />
      </s-stack>
    </s-page>
  );
}
