/**
 * The thank-you and order-status blocks (every plan): the points this order earns and when they become
 * available, and the balance, from GET /extensions/orders/<id> (docs/extensions-api.md). Pure view-model
 * plus a loader that waits a little while the app has not recorded the order yet (`processing`: the order
 * webhook usually lands seconds after the thank-you page opens).
 */
import {signal, type Signal} from '@preact/signals';
import {ApiError, type LoyaltyApi} from '../../shared/api.ts';
import type {Said} from '../../shared/checkout-i18n.ts';
import {messageOf} from './redeem.ts';

export type OrderAnswer = {
  order: string | null; status: 'pending' | 'available' | 'none' | 'processing'; points: number;
  pending_until: string | null; available: number; balance: {available: number; pending: number};
};

export type OrderState =
  | {phase: 'loading'}
  | {phase: 'signed_out'}
  | {phase: 'error'; message: Said}
  | {phase: 'ready'; answer: OrderAnswer};

/** A line of the block: a key with raw values; `day` values are app days the component formats. */
export type Line = {key: string; points?: number; day?: string | null; available?: number; pending?: number};

/** What the block says for the app's answer: the order's points line, then the balance line. */
export function orderLines(answer: OrderAnswer): Line[] {
  const head: Record<OrderAnswer['status'], Line> = {
    processing: {key: 'order.processing'},
    pending: {key: 'order.pending', points: answer.points, day: answer.pending_until},
    available: {key: 'order.available', points: answer.points},
    none: {key: 'order.none'},
  };
  const lines = [head[answer.status] ?? head.processing];
  lines.push({key: 'order.balance', available: answer.balance.available, pending: answer.balance.pending});
  return lines;
}

export interface OrderModel {
  state: Signal<OrderState>;
  load(): Promise<void>;
}

/** Loads the order's points; while `processing`, asks again up to `retries` times, `wait` apart. */
export function orderModel(api: LoyaltyApi, orderId: () => string | undefined, loggedIn: () => boolean,
  {retries = 4, wait = (ms: number) => new Promise<void>((done) => setTimeout(done, ms)), delayMs = 5000} = {}): OrderModel {
  const state = signal<OrderState>({phase: 'loading'});

  async function load(): Promise<void> {
    const id = orderId();
    if (!loggedIn() || !id) {
      state.value = {phase: 'signed_out'};
      return;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const answer: OrderAnswer = await api.order(id);
        state.value = {phase: 'ready', answer};
        if (answer.status !== 'processing' || attempt >= retries) return;
      } catch (exc) {
        state.value = exc instanceof ApiError && exc.status === 401
          ? {phase: 'signed_out'} : {phase: 'error', message: messageOf(exc)};
        return;
      }
      await wait(delayMs);
    }
  }

  return {state, load};
}
