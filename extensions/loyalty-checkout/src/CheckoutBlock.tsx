/**
 * The checkout block (purchase.checkout.block.render, information/shipping/payment steps: Shopify Plus):
 * the customer's available points, the rewards giving a discount code and the conversion they can afford
 * with their terms, and one button each that redeems and applies the code to this checkout; a line points
 * to the account's Loyalty page for the affordable rewards that are not codes (a gift card, a donation).
 */
import {useState} from 'preact/hooks';
import {say, type Texts} from '../../shared/checkout-i18n.ts';
import {
  belowMinimum, blocked, checkoutOffers, clampPoints, conversionValue, termsMessages,
  type ConversionOffer, type Offers, type RewardOffer, type Terms,
} from './offers.ts';
import type {CheckoutHost, CheckoutModel, CheckoutState} from './redeem.ts';

type Props = {model: CheckoutModel; host: CheckoutHost; i18n: Texts};

export function CheckoutBlock({model, host, i18n}: Props) {
  const state = model.state.value;
  const t = (key: string, vars?: Record<string, string | number>) => say(i18n, {key, vars});
  if (state.phase === 'loading') return <s-skeleton-paragraph />;
  if (state.phase === 'signed_out') return <s-text>{t('checkout.signed_out')}</s-text>;
  if (state.phase === 'error') return <s-banner tone="critical">{say(i18n, state.message)}</s-banner>;

  const offers = checkoutOffers(state.page);
  return (
    <s-stack gap="base">
      <s-heading>{t('checkout.heading')}</s-heading>
      <s-text>{t('checkout.available', {points: i18n.formatNumber(offers.available)})}</s-text>
      {state.applied && (
        <s-banner tone="success" heading={t('checkout.applied', {title: state.applied.title})}>
          <s-text>{t('checkout.applied_code', {code: state.applied.code})}</s-text>
        </s-banner>
      )}
      {/* One code from this block per checkout: once applied, nothing more is offered (and no second code is minted). */}
      {!state.applied && <Choices {...{model, host, i18n, state, offers}} />}
    </s-stack>
  );
}

function Choices({model, host, i18n, state, offers}: Props & {state: Extract<CheckoutState, {phase: 'ready'}>; offers: Offers}) {
  const t = (key: string, vars?: Record<string, string | number>) => say(i18n, {key, vars});
  const subtotal = host.cost.subtotalAmount.value?.amount ?? null;
  const canUpdate = host.instructions.value.discounts.canUpdateDiscountCodes;
  const capabilities = host.extension.capabilities.value;
  return (
    <s-stack gap="base">
      {state.failed && (
        <s-banner tone="warning" heading={t('checkout.apply_failed')}>
          <s-stack gap="small-200">
            <s-text>{t('checkout.apply_failed_code', {code: state.failed.code})}</s-text>
            <s-clipboard-item id="loyalty-failed-code" text={state.failed.code} />
            <s-button variant="secondary" command="--copy" commandFor="loyalty-failed-code">{t('checkout.copy_code')}</s-button>
            <s-text>{t('checkout.apply_failed_points')}</s-text>
          </s-stack>
        </s-banner>
      )}
      {state.error && <s-banner tone="critical">{say(i18n, state.error)}</s-banner>}
      {offers.rewards.length === 0 && !offers.conversion && !offers.elsewhere && <s-text>{t('checkout.nothing_yet')}</s-text>}
      {!canUpdate && (offers.conversion || offers.rewards.length > 0)
        && <s-text tone="warning">{t('checkout.codes_disabled')}</s-text>}
      {offers.rewards.map((offer) => (
        <RewardRow key={offer.key} offer={offer} offers={offers} busy={state.busy} i18n={i18n}
          disabled={Boolean(blocked(canUpdate, capabilities)) || belowMinimum(offer.terms, subtotal)}
          below={belowMinimum(offer.terms, subtotal)}
          onRedeem={() => model.redeem({reward: offer.key}, offer.title)} />
      ))}
      {offers.conversion && (
        <ConversionRow offer={offers.conversion} offers={offers} busy={state.busy} i18n={i18n}
          below={belowMinimum(offers.conversion.terms, subtotal)}
          disabled={Boolean(blocked(canUpdate, capabilities)) || belowMinimum(offers.conversion.terms, subtotal)}
          onRedeem={(n, title) => model.redeem({points: n}, title)} />
      )}
      {/* Gift cards, donations, store credit and picked items are redeemed on the account page only. */}
      {offers.elsewhere > 0 && <s-text>{t('checkout.elsewhere')}</s-text>}
    </s-stack>
  );
}

function TermsList({terms, offers, i18n, below}: {terms: Terms | null; offers: Offers; i18n: Texts; below: boolean}) {
  return (
    <s-stack gap="small-300">
      {termsMessages(terms, (amount) => i18n.formatCurrency(amount, {currency: offers.currency})).map((m) => (
        <s-text key={m.key} tone={below && m.key === 'checkout.terms.minimum' ? 'warning' : 'neutral'}>
          {say(i18n, m)}
        </s-text>
      ))}
    </s-stack>
  );
}

type RowProps<O> = {offer: O; offers: Offers; busy: boolean; disabled: boolean; below: boolean; i18n: Texts};

function RewardRow({offer, offers, busy, disabled, below, i18n, onRedeem}: RowProps<RewardOffer> & {onRedeem: () => void}) {
  return (
    <s-stack gap="small-200">
      <s-text type="strong">{offer.title}</s-text>
      <TermsList terms={offer.terms} offers={offers} i18n={i18n} below={below} />
      <s-button variant="secondary" loading={busy} disabled={busy || disabled} onClick={onRedeem}>
        {say(i18n, {key: 'checkout.redeem_reward', vars: {points: i18n.formatNumber(offer.points)}})}
      </s-button>
    </s-stack>
  );
}

function ConversionRow({offer, offers, busy, disabled, below, i18n, onRedeem}:
  RowProps<ConversionOffer> & {onRedeem: (points: number, title: string) => void}) {
  // Starts at the minimum, never at the whole balance: the customer chooses how much to spend.
  const [points, setPoints] = useState(offer.min);
  const value = i18n.formatCurrency(conversionValue(points, offer.valuePerPoint), {currency: offers.currency});
  const title = say(i18n, {key: 'checkout.conversion_title', vars: {value}});
  return (
    <s-stack gap="small-200">
      <s-text type="strong">{say(i18n, {key: 'checkout.conversion_heading'})}</s-text>
      <s-number-field label={say(i18n, {key: 'checkout.conversion_label'})} min={offer.min} max={offer.max} step={1}
        value={String(points)} disabled={busy}
        onChange={(event: Event) => setPoints(clampPoints(offer, Number((event.currentTarget as HTMLInputElement).value)))} />
      <s-text>{say(i18n, {key: 'checkout.conversion_value', vars: {points: i18n.formatNumber(points), value}})}</s-text>
      <TermsList terms={offer.terms} offers={offers} i18n={i18n} below={below} />
      <s-button variant="secondary" loading={busy} disabled={busy || disabled} onClick={() => onRedeem(points, title)}>
        {say(i18n, {key: 'checkout.redeem_conversion', vars: {points: i18n.formatNumber(points), value}})}
      </s-button>
    </s-stack>
  );
}
