/** Vouchers with a copy button for each code the customer can still use. */
import {day, money, points, t} from '../host.ts';
import {statusKey, type Voucher, type VoucherCard} from '../model.ts';

/** A code and its copy button (s-clipboard-item, triggered by the button through commandFor). */
export function CopyCode({code, id}: {code: string; id: string}) {
  return (
    <s-stack direction="inline" gap="small-200" alignItems="center">
      <s-text type="strong">{code}</s-text>
      <s-button variant="secondary" commandFor={id} accessibilityLabel={t('vouchers.copy_label', {code})}>
        {t('vouchers.copy')}
      </s-button>
      <s-clipboard-item id={id} text={code} />
    </s-stack>
  );
}

/** What a voucher is worth and when it ends, in one line. */
export function VoucherLine({voucher, currency}: {voucher: Voucher; currency: string}) {
  const worth = voucher.percentage ? t('vouchers.percentage', {percentage: voucher.percentage})
    : voucher.amount ? money(voucher.amount, currency) : '';
  return (
    <s-stack gap="small-300">
      <s-text>{t('vouchers.worth', {worth, points: points(voucher.points)})}</s-text>
      {voucher.minimum_subtotal && Number(voucher.minimum_subtotal) > 0 && (
        <s-text color="subdued">{t('terms.minimum_subtotal', {amount: money(voucher.minimum_subtotal, currency)})}</s-text>
      )}
      {voucher.ends_at && <s-text color="subdued">{t('vouchers.until', {date: day(voucher.ends_at)})}</s-text>}
    </s-stack>
  );
}

export function Vouchers({cards, currency}: {cards: VoucherCard[]; currency: string}) {
  if (cards.length === 0) return null;
  return (
    <s-section heading={t('vouchers.heading')}>
      <s-stack gap="base">
        {cards.map(({voucher, copyable}, i) => (
          <s-box key={i} border="base" borderRadius="base" padding="base">
            <s-stack gap="small-200">
              <s-stack direction="inline" gap="small-200" alignItems="center">
                <s-badge color={voucher.status === 'active' ? 'base' : 'subdued'}>{t(statusKey(voucher.status))}</s-badge>
                {!copyable && voucher.code && <s-text color="subdued">{voucher.code}</s-text>}
              </s-stack>
              {copyable && voucher.code && <CopyCode code={voucher.code} id={`loyalty-code-${i}`} />}
              <VoucherLine voucher={voucher} currency={currency} />
            </s-stack>
          </s-box>
        ))}
      </s-stack>
    </s-section>
  );
}
