/** Target customer-account.profile.block.render: the loyalty summary on the profile page. */
import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {newStore} from './entry.ts';
import {ProfileSummary} from './ProfileSummary.tsx';

export default async () => {
  render(<ProfileSummary store={newStore()} />, document.body);
};
