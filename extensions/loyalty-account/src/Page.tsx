/** Target customer-account.page.render: the full "Loyalty" page. */
import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {newStore} from './entry.ts';
import {LoyaltyPage} from './LoyaltyPage.tsx';

export default async () => {
  render(<LoyaltyPage store={newStore()} />, document.body);
};
