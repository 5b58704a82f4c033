/** The POS customer block: points (available, pending), tier or ladder step, perks earned, next step. */
import {say, sayDay, type Texts} from '../../shared/checkout-i18n.ts';
import type {PosState} from './customer.ts';

export function CustomerBlock({state, i18n}: {state: PosState; i18n: Texts}) {
  const t = (key: string, vars?: Record<string, string | number>) => say(i18n, {key, vars});
  const n = (value: number) => i18n.formatNumber(value);
  if (state.phase === 'loading') return <s-pos-block heading={t('pos.heading')}><s-text>{t('pos.loading')}</s-text></s-pos-block>;
  if (state.phase === 'error') return <s-pos-block heading={t('pos.heading')}><s-text>{say(i18n, state.message)}</s-text></s-pos-block>;
  const v = state.view;
  return (
    <s-pos-block heading={t('pos.heading')}>
      <s-stack gap="small-200">
        <s-text type="strong">{t('pos.available', {points: n(v.available)})}</s-text>
        <s-text>{t('pos.pending', {points: n(v.pending)})}</s-text>
        {v.tier && <s-text>{t('pos.tier', {tier: v.tier})}</s-text>}
        {!v.tier && v.step && <s-text>{t('pos.step', {points: n(v.step)})}</s-text>}
        {v.perks.length > 0
          ? <s-stack direction="inline" gap="small-200">{v.perks.map((p) => <s-badge key={p}>{p}</s-badge>)}</s-stack>
          : <s-text>{t('pos.no_perks')}</s-text>}
        {v.next && <s-text>{t('pos.next', {threshold: n(v.next.threshold), to_go: n(v.next.toGo)})}</s-text>}
        {v.expiry && <s-text>{t('pos.expiry', {date: sayDay(i18n, v.expiry)})}</s-text>}
      </s-stack>
    </s-pos-block>
  );
}
