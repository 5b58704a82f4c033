/** What both targets share at start-up: the app's API client with the customer-account session token. */
import {loyaltyApi} from '../../shared/api.ts';
import {host} from './host.ts';
import {AccountStore} from './store.ts';

export function newStore(): AccountStore {
  return new AccountStore(loyaltyApi(APP_URL, () => host().sessionToken.get()));
}
