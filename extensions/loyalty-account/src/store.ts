/**
 * The page's state and its two actions, without UI: load the customer's page JSON, then redeem a reward or
 * convert points with the one-use form token of the last answer (the same idempotency as the app-proxy
 * form). A second click while a redemption is on its way sends nothing; a refusal keeps the token, so
 * trying again can never spend twice; a success shows the new code at once and takes the fresh token.
 * Components subscribe to it (useStore); tests drive it directly.
 */
import {ApiError, type LoyaltyApi, type Redemption} from '../../shared/api.ts';
import type {LoyaltyPage, Voucher} from './model.ts';

export type Status = 'loading' | 'ready' | 'error';

export interface AccountState {
  status: Status;
  page: LoyaltyPage | null;
  /** The app's message for a failed load or redemption (in the programme's language); '' when the app
   * could not be reached (the page says so in the customer's language); null when all is well. */
  error: string | null;
  /** What is being redeemed right now (`reward:KEY` or `points`), or null. */
  busy: string | null;
  /** The voucher just made, shown at the top with its code. */
  made: Voucher | null;
  /** What the customer typed in the convert box: empty at first, never the whole balance. */
  pointsText: string;
}

export class AccountStore {
  state: AccountState = {status: 'loading', page: null, error: null, busy: null, made: null, pointsText: ''};
  private listeners = new Set<() => void>();
  private inFlight = false;

  constructor(private readonly api: LoyaltyApi) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<AccountState>) {
    this.state = {...this.state, ...patch};
    this.listeners.forEach((listener) => listener());
  }

  async load(): Promise<void> {
    this.set({status: this.state.page ? 'ready' : 'loading', error: null});
    try {
      this.set({status: 'ready', page: await this.api.customer()});
    } catch (exc) {
      this.set({status: this.state.page ? 'ready' : 'error', error: messageOf(exc)});
    }
  }

  setPoints(text: string) {
    this.set({pointsText: text});
  }

  redeemReward(key: string): Promise<void> {
    return this.redeem({reward: key}, `reward:${key}`);
  }

  convert(points: number): Promise<void> {
    return this.redeem({points}, 'points');
  }

  /** Spend with the form token of the last answer; one at a time (a double click posts once). */
  private async redeem(what: Redemption, label: string): Promise<void> {
    const token = this.state.page?.token;
    if (this.inFlight || !token) return;
    this.inFlight = true;
    this.set({busy: label, error: null});
    try {
      const answer = await this.api.redeem(what, token);
      const {result, ...page} = answer;
      this.set({page: page as LoyaltyPage, made: result?.voucher ?? null, pointsText: ''});
    } catch (exc) {
      this.set({error: messageOf(exc)});
      // An expired form token: fetch a fresh one (the message stays) so the next click can go through.
      if (exc instanceof ApiError && exc.key === 'error.token') await this.reloadKeepingError();
    } finally {
      this.inFlight = false;
      this.set({busy: null});
    }
  }

  private async reloadKeepingError() {
    const error = this.state.error;
    await this.load();
    this.set({error: this.state.error ?? error});
  }
}

/** The app's message as it is (already in the programme's language); a network failure has none. */
function messageOf(exc: unknown): string {
  if (exc instanceof ApiError && exc.status !== 0) return exc.message;
  return '';
}
