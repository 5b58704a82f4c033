/** The rewards that spend points, judged on AVAILABLE points: a redeemable one has a button; one that is
 * short says how many points are missing; one reserved to a tier names it. Never lit on lifetime points. */
import {points, t} from '../host.ts';
import type {RewardCard} from '../model.ts';
import type {AccountStore} from '../store.ts';
import {Terms} from './Terms.tsx';

export function Rewards({cards, store, currency}: {cards: RewardCard[]; store: AccountStore; currency: string}) {
  if (cards.length === 0) return null;
  const busy = store.state.busy;
  return (
    <s-section heading={t('rewards.heading')}>
      <s-stack gap="base">
        {cards.map(({reward, state, missing, canRedeem, terms}) => (
          <s-box key={reward.key} border="base" borderRadius="base" padding="base">
            <s-stack gap="small-200">
              <s-stack direction="inline" gap="small-200" alignItems="center">
                <s-text type="strong">{reward.title}</s-text>
                {state === 'redeemable' && <s-badge color="base">{t('rewards.redeemable')}</s-badge>}
                {state === 'tier_locked' && (
                  <s-badge color="subdued">{t('rewards.tier_locked', {tier: reward.tier_required ?? ''})}</s-badge>
                )}
              </s-stack>
              {reward.description && <s-text color="subdued">{reward.description}</s-text>}
              <Terms lines={terms} currency={currency} />
              {canRedeem
                ? (
                  <s-button variant="primary" loading={busy === `reward:${reward.key}`} disabled={busy !== null}
                    onClick={() => store.redeemReward(reward.key)}>
                    {t('rewards.redeem', {points: points(reward.points)})}
                  </s-button>
                )
                : state === 'short' && <s-text color="subdued">{t('rewards.missing', {points: points(missing)})}</s-text>}
            </s-stack>
          </s-box>
        ))}
      </s-stack>
    </s-section>
  );
}
