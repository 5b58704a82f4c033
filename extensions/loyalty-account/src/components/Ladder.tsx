/** Store A's ladder: perks earned (on confirmed lifetime points) vs ahead, and the next threshold. The
 * rewards that open at a step are paid with available points: they are named, never marked as earned. */
import {points, t} from '../host.ts';
import type {LadderView} from '../model.ts';

export function Ladder({ladder}: {ladder: LadderView}) {
  return (
    <s-section heading={t('ladder.heading')}>
      <s-stack gap="base">
        <s-text>{t('ladder.climbed', {points: points(ladder.climbed)})}</s-text>
        <s-progress value={ladder.progress.value} max={ladder.progress.max}
          accessibilityLabel={t('ladder.progress_label')} />
        <s-text type="strong">
          {ladder.next
            ? t('ladder.next', {points: points(ladder.next.toGo), threshold: points(ladder.next.threshold)})
            : t('ladder.top')}
        </s-text>
        {ladder.steps.map((step) => (
          <s-stack key={step.points} gap="small-200">
            <s-stack direction="inline" gap="small-200" alignItems="center">
              <s-text type="strong">{points(step.points)}</s-text>
              {step.reached
                ? <s-badge color="base">{t('ladder.reached')}</s-badge>
                : <s-badge color="subdued">{t('ladder.ahead')}</s-badge>}
            </s-stack>
            <s-unordered-list>
              {step.perks.map(({perk, earned, pointsToGo}) => (
                <s-list-item key={perk.key}>
                  {earned
                    ? t('ladder.perk_earned', {title: perk.title})
                    : t('ladder.perk_ahead', {title: perk.title, points: points(pointsToGo)})}
                </s-list-item>
              ))}
              {step.rewards.map(({reward, state}) => (
                <s-list-item key={reward.key}>
                  {t(state === 'redeemable' ? 'ladder.reward_redeemable' : 'ladder.reward_to_redeem',
                    {title: reward.title, points: points(reward.points)})}
                </s-list-item>
              ))}
            </s-unordered-list>
          </s-stack>
        ))}
      </s-stack>
    </s-section>
  );
}
