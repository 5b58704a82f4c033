/**
 * The checkout block's state and its one action: redeem points for a code minted for this checkout
 * (POST /extensions/checkout/redeem) and apply it to the checkout in the same step.
 *
 * A double tap never mints two codes: while a redemption is under way a second one is refused here (the
 * button is also disabled), and the one-use form token is kept until the app answers, so a retry after a
 * lost answer re-sends the SAME token and the app returns the code it already minted.
 */
import {signal, type Signal} from '@preact/signals';
import {ApiError, type LoyaltyApi, type Redemption} from '../../shared/api.ts';
import type {Said} from '../../shared/checkout-i18n.ts';
import {blocked} from './offers.ts';

/** The part of the checkout API (purchase.checkout.block.render) the block uses. */
export interface CheckoutHost {
  buyerIdentity?: {customer: {value: {id: string} | undefined}};
  instructions: {value: {discounts: {canUpdateDiscountCodes: boolean}}};
  extension: {capabilities: {value: readonly string[]}};
  cost: {subtotalAmount: {value: {amount: number}}};
  applyDiscountCodeChange(change: {type: 'addDiscountCode'; code: string}): Promise<{type: 'success'} | {type: 'error'; message: string}>;
}

export type Applied = {code: string; title: string};

export type CheckoutState =
  | {phase: 'loading'}
  | {phase: 'signed_out'}
  | {phase: 'error'; message: Said}
  | {phase: 'ready'; page: any; token: string | null; busy: boolean; error: Said | null;
     applied: Applied | null; failed: Applied | null};

export interface CheckoutModel {
  state: Signal<CheckoutState>;
  load(quiet?: boolean): Promise<void>;
  redeem(what: Redemption, title: string): Promise<void>;
}

/** The block's model over the host (the `shopify` global) and the app's API client. */
export function checkoutModel(host: CheckoutHost, api: LoyaltyApi): CheckoutModel {
  const state = signal<CheckoutState>({phase: 'loading'});
  let inFlight: Promise<void> | null = null;

  function ready(): Extract<CheckoutState, {phase: 'ready'}> | null {
    return state.value.phase === 'ready' ? state.value : null;
  }

  async function load(quiet = false): Promise<void> {
    if (!host.buyerIdentity?.customer.value) {
      state.value = {phase: 'signed_out'};
      return;
    }
    try {
      const page = await api.customer();
      const before = ready();
      state.value = {phase: 'ready', page, token: page.token ?? null, busy: false, error: null,
        applied: before?.applied ?? null, failed: before?.failed ?? null};
    } catch (exc) {
      if (quiet && ready()) return; // a refresh after a redemption: keep what is shown (the code above all)
      state.value = exc instanceof ApiError && exc.status === 401
        ? {phase: 'signed_out'} : {phase: 'error', message: messageOf(exc)};
    }
  }

  async function run(what: Redemption, title: string): Promise<void> {
    const current = ready();
    if (!current || !current.token || current.applied) return; // one code from this block per checkout
    const refusal = blocked(host.instructions.value.discounts.canUpdateDiscountCodes,
      host.extension.capabilities.value);
    if (refusal) {
      state.value = {...current, error: refusal};
      return;
    }
    state.value = {...current, busy: true, error: null, failed: null};
    let answer: any;
    try {
      answer = await api.checkoutRedeem(what, current.token);
    } catch (exc) {
      // The token is kept: if the app did mint a code before the answer was lost, the same token gets it back.
      state.value = {...current, busy: false, error: messageOf(exc)};
      return;
    }
    const voucher = answer?.result?.voucher ?? {};
    const minted: Applied = {code: String(voucher.code ?? ''), title};
    const result = minted.code ? await host.applyDiscountCodeChange({type: 'addDiscountCode', code: minted.code}).catch((e) => ({type: 'error' as const, message: String(e)}))
      : {type: 'error' as const, message: 'no code'};
    const ok = result.type === 'success';
    // The balance changed and the form token is spent: take the fresh page the app sent, or read it again.
    state.value = {...current, busy: false, token: answer?.token ?? null, page: answer?.customer ? answer : current.page,
      applied: ok ? minted : current.applied, failed: ok ? null : minted};
    if (!answer?.customer) await load(true);
  }

  function redeem(what: Redemption, title: string): Promise<void> {
    if (inFlight) return inFlight;
    inFlight = run(what, title).finally(() => { inFlight = null; });
    return inFlight;
  }

  return {state, load, redeem};
}

/** The app's message (already in the programme's language) or, for a network failure, a key of ours. */
export function messageOf(exc: unknown): Said {
  if (exc instanceof ApiError && exc.status > 0 && exc.status < 500 && exc.message) return exc.message;
  if (exc instanceof ApiError && exc.retry) return {key: 'common.retry'};
  return {key: 'common.failed'};
}
