/** Re-render a component whenever the store changes. */
import {useEffect, useState} from 'preact/hooks';
import type {AccountState, AccountStore} from './store.ts';

export function useStore(store: AccountStore): AccountState {
  const [, setVersion] = useState(0);
  useEffect(() => store.subscribe(() => setVersion((n) => n + 1)), [store]);
  return store.state;
}
