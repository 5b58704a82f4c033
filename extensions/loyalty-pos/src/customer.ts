/**
 * The POS customer block's model (pos.customer-details.block.render): what staff see of the customer on
 * the customer screen, from GET /extensions/pos/customers/<id> (docs/extensions-api.md) with the POS
 * session token. Pure view-model plus a loader.
 */
import {signal, type Signal} from '@preact/signals';
import {ApiError, type LoyaltyApi} from '../../shared/api.ts';
import type {Said} from '../../shared/checkout-i18n.ts';

/** What the block shows: balances, the VIP tier or the ladder step reached, perks earned, the next step. */
export type PosView = {
  available: number; pending: number;
  tier: string | null;
  step: number | null;
  perks: string[];
  next: {threshold: number; toGo: number} | null;
  expiry: string | null;
};

/** The block's view of the app's answer. A VIP tier (programme tiers) is named; otherwise the ladder step
 * (store A: 150/300/500/1000 lifetime points) is shown. Perks shown are those `earned`. */
export function posView(answer: any): PosView {
  const c = answer?.customer ?? {};
  const standing = c.standing ?? {};
  const perks = (c.perks ?? []) as {key: string; title: string; state: string}[];
  const next = standing.next_threshold ? {threshold: standing.next_threshold, toGo: standing.points_to_next ?? 0} : null;
  return {
    available: c.available ?? 0, pending: c.pending ?? 0,
    tier: c.tier?.name ?? null,
    step: standing.tier ? standing.tier : null,
    perks: perks.filter((p) => p.state === 'earned').map((p) => p.title),
    next,
    expiry: c.expiry?.date ?? null,
  };
}

export type PosState = {phase: 'loading'} | {phase: 'error'; message: Said} | {phase: 'ready'; view: PosView};

/** Loads the customer's points for staff; a customer the app does not know yet is said so, plainly. */
export function posModel(api: LoyaltyApi, customerId: () => number | undefined): {state: Signal<PosState>; load(): Promise<void>} {
  const state = signal<PosState>({phase: 'loading'});
  async function load(): Promise<void> {
    const id = customerId();
    if (!id) {
      state.value = {phase: 'error', message: {key: 'pos.no_customer'}};
      return;
    }
    try {
      state.value = {phase: 'ready', view: posView(await api.posCustomer(id))};
    } catch (exc) {
      const key = exc instanceof ApiError && exc.status === 404 ? 'pos.unknown' : 'pos.failed';
      state.value = {phase: 'error', message: {key}};
    }
  }
  return {state, load};
}
