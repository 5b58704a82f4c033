/** A voucher's conditions as a list, stated where the customer decides (next to the button). */
import {line, t} from '../host.ts';
import type {Line} from '../model.ts';

export function Terms({lines, currency}: {lines: Line[]; currency: string}) {
  if (lines.length === 0) return null;
  return (
    <s-stack gap="small-300">
      <s-text color="subdued">{t('terms.heading')}</s-text>
      <s-unordered-list>
        {lines.map((item) => <s-list-item key={item.key}>{line(item, currency)}</s-list-item>)}
      </s-unordered-list>
    </s-stack>
  );
}
