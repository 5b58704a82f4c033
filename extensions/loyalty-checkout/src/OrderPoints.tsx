/** The thank-you / order-status block's view: the order's points and the balance. */
import {say, sayDay, type Texts} from '../../shared/checkout-i18n.ts';
import {orderLines, type Line, type OrderModel} from './order.ts';

export function OrderPoints({model, i18n, onSignIn}: {model: OrderModel; i18n: Texts; onSignIn?: () => void}) {
  const state = model.state.value;
  if (state.phase === 'loading') return <s-skeleton-paragraph />;
  if (state.phase === 'signed_out') {
    return (
      <s-stack gap="small-200">
        <s-text>{say(i18n, {key: 'order.signed_out'})}</s-text>
        {onSignIn && <s-button variant="secondary" onClick={onSignIn}>{say(i18n, {key: 'order.sign_in'})}</s-button>}
      </s-stack>
    );
  }
  if (state.phase === 'error') return <s-banner tone="critical">{say(i18n, state.message)}</s-banner>;
  const [head, balance] = orderLines(state.answer);
  return (
    <s-stack gap="small-200">
      <s-heading>{say(i18n, {key: 'order.heading'})}</s-heading>
      <s-text>{text(i18n, head)}</s-text>
      <s-text tone="neutral">{text(i18n, balance)}</s-text>
    </s-stack>
  );
}

function text(i18n: Texts, line: Line): string {
  const vars: Record<string, string | number> = {};
  if (line.points !== undefined) { vars.points = i18n.formatNumber(line.points); vars.count = line.points; }
  if (line.day !== undefined) vars.date = sayDay(i18n, line.day);
  if (line.available !== undefined) vars.available = i18n.formatNumber(line.available);
  if (line.pending !== undefined) vars.pending = i18n.formatNumber(line.pending);
  return say(i18n, {key: line.key, vars});
}
