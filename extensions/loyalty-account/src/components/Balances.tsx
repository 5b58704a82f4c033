/** The three balances, the pending lots with the day each becomes available, and when points expire. */
import {day, points, t} from '../host.ts';
import {expiryNote, pendingLots, type Customer} from '../model.ts';

export function Balances({customer}: {customer: Customer}) {
  const expiry = expiryNote(customer);
  const lots = pendingLots(customer);
  return (
    <s-section heading={t('balances.heading')}>
      <s-stack gap="base">
        <s-grid gridTemplateColumns="1fr 1fr 1fr" gap="base">
          <Figure label={t('balances.available')} value={customer.available} />
          <Figure label={t('balances.pending')} value={customer.pending} />
          <Figure label={t('balances.lifetime')} value={customer.lifetime} />
        </s-grid>
        {lots.length > 0 && (
          <s-stack gap="small-200">
            <s-text type="strong">{t('balances.pending_lots')}</s-text>
            <s-unordered-list>
              {lots.map((lot, i) => (
                <s-list-item key={i}>
                  {t(lot.order ? 'balances.lot_order' : 'balances.lot',
                    {points: points(lot.points), date: day(lot.pending_until), order: lot.order ?? ''})}
                </s-list-item>
              ))}
            </s-unordered-list>
          </s-stack>
        )}
        {expiry?.kind === 'never' && <s-text color="subdued">{t('expiry.never')}</s-text>}
        {expiry?.kind === 'on' && (
          <s-banner tone="warning">{t('expiry.on', {points: points(expiry.points), date: day(expiry.date)})}</s-banner>
        )}
      </s-stack>
    </s-section>
  );
}

function Figure({label, value}: {label: string; value: number}) {
  return (
    <s-stack gap="small-300">
      <s-text color="subdued">{label}</s-text>
      <s-heading>{points(value)}</s-heading>
    </s-stack>
  );
}
