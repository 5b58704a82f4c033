/** Store B's convert box: an empty number field (never pre-filled with the balance), what the typed
 * points pay, and the voucher's terms stated next to the button. */
import {voucherAmount} from '../../../shared/format.ts';
import {line, money, points, t} from '../host.ts';
import {checkPoints, type ConversionView} from '../model.ts';
import type {AccountStore} from '../store.ts';
import {Terms} from './Terms.tsx';

export function Convert({view, store, currency}: {view: ConversionView; store: AccountStore; currency: string}) {
  const {busy, pointsText} = store.state;
  const check = checkPoints(pointsText, view);
  return (
    <s-section heading={t('convert.heading')}>
      <s-stack gap="base">
        <s-text>
          {t('convert.rate', {points: points(view.minimum), amount: money(voucherAmount(view.minimum, view.valuePerPoint), currency)})}
          {' '}
          {t('convert.minimum', {points: points(view.minimum)})}
        </s-text>
        {view.canConvert
          ? (
            <s-stack gap="base">
              <s-number-field label={t('convert.field')} value={pointsText} min={view.minimum} max={view.available}
                step={1} inputMode="numeric" error={check.ok || !check.error ? undefined : line(check.error, currency)}
                onInput={(event) => store.setPoints(fieldValue(event))} />
              {check.ok && (
                <s-text type="strong">{t('convert.pays', {points: points(check.points), amount: money(check.amount, currency)})}</s-text>
              )}
              <Terms lines={view.terms} currency={currency} />
              <s-button variant="primary" loading={busy === 'points'} disabled={!check.ok || busy !== null}
                onClick={() => check.ok && store.convert(check.points)}>
                {t('convert.button')}
              </s-button>
            </s-stack>
          )
          : (
            <s-stack gap="small-200">
              <s-text color="subdued">{t('convert.not_yet', {points: points(view.minimum - view.available)})}</s-text>
              <Terms lines={view.terms} currency={currency} />
            </s-stack>
          )}
      </s-stack>
    </s-section>
  );
}

/** The text of the number field that fired the event. */
function fieldValue(event: Event): string {
  return String((event.currentTarget as {value?: unknown} | null)?.value ?? '');
}
