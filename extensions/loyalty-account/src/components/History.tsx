/** The latest movements of points, newest first. */
import {day, points, t} from '../host.ts';
import {historyKey, type Customer} from '../model.ts';

export function History({customer}: {customer: Customer}) {
  return (
    <s-section heading={t('history.heading')}>
      {customer.history.length === 0
        ? <s-text color="subdued">{t('history.empty')}</s-text>
        : (
          <s-stack gap="small-200">
            {customer.history.map((entry, i) => (
              <s-stack key={i} direction="inline" gap="base" justifyContent="space-between">
                <s-text>{t(historyKey(entry.kind), {order: entry.order ?? '', points: points(Math.abs(entry.points))})}</s-text>
                <s-text color="subdued">
                  {`${entry.points > 0 ? '+' : entry.points < 0 ? '−' : ''}${points(Math.abs(entry.points))} · ${day(entry.effective_at)}`}
                </s-text>
              </s-stack>
            ))}
          </s-stack>
        )}
    </s-section>
  );
}
