/** The VIP tier, until when it is kept, and the way to the next tier in the basis' unit. */
import {day, money, points, t} from '../host.ts';
import type {TierProgress} from '../model.ts';

const NEXT_KEYS = {points: 'tier.next_points', spent: 'tier.next_spent', orders: 'tier.next_orders'} as const;

export function Tier({tier, currency}: {tier: TierProgress; currency: string}) {
  const remaining = (value: string | number) => tier.basis === 'spent' ? money(value, currency)
    : tier.basis === 'points' ? points(Number(value)) : Number(value);
  return (
    <s-section heading={t('tier.heading')}>
      <s-stack gap="small-200">
        <s-text type="strong">{tier.name ? t('tier.current', {tier: tier.name}) : t('tier.none')}</s-text>
        {tier.name && tier.until && <s-text color="subdued">{t('tier.until', {date: day(tier.until)})}</s-text>}
        {tier.progress && (
          <s-progress value={tier.progress.value} max={tier.progress.max} accessibilityLabel={t('tier.progress_label')} />
        )}
        {tier.next
          ? <s-text>{t(NEXT_KEYS[tier.basis], {remaining: remaining(tier.next.remaining), count: Number(tier.next.remaining), tier: tier.next.name})}</s-text>
          : tier.name && <s-text>{t('tier.top')}</s-text>}
      </s-stack>
    </s-section>
  );
}
