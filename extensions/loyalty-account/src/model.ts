/**
 * What the loyalty page and the profile block show, decided from the app's JSON (contract A: the page JSON
 * of loyalty/services/read/loyalty_page.py, via GET /extensions/customer). Pure functions, no UI, no
 * locale: the components only lay out what these return, so every rule a shopper could misread is here and
 * unit-tested.
 *
 * The rules that matter most: a reward is redeemable on AVAILABLE points only (never on lifetime points);
 * a ladder perk is earned on confirmed lifetime points and is never a button; the convert box starts empty.
 */
import {amountOf, voucherAmount} from '../../shared/format.ts';
import type {Terms} from '../../shared/contract.ts';

export type {Terms};

export interface Reward {
  key: string;
  kind: string;
  points: number;
  title: string;
  description?: string | null;
  amount?: string | null;
  percentage?: string | null;
  cause?: string | null;
  terms?: Terms;
  tier?: string | null;
}

export interface CustomerReward extends Reward {
  state?: 'redeemable' | 'short' | 'tier_locked';
  missing?: number;
  tier_required?: string | null;
}

export interface Perk extends Reward {
  state?: 'earned' | 'ahead';
  points_to_go?: number;
  unlocked?: boolean;
}

export interface Voucher {
  code: string | null;
  kind: string;
  reward?: string | null;
  status: string;
  points: number;
  amount: string | null;
  minimum_subtotal: string | null;
  ends_at: string | null;
  created_at?: string | null;
  percentage?: string | null;
  reason?: string | null;
}

export interface TierView {
  key: string | null;
  name: string | null;
  until: string | null;
  basis: 'points' | 'spent' | 'orders';
  figure: string | number;
  next: {key: string; name: string; threshold: string | number; remaining: string | number} | null;
}

export interface Customer {
  available: number;
  pending: number;
  lifetime: number;
  ladder_points?: number;
  standing?: {next_threshold: number | null; points_to_next: number | null};
  perks: Perk[];
  rewards: CustomerReward[];
  tier: TierView | null;
  expiry?: {policy: string; date: string | null; points: number};
  pending_points: {order: string | null; points: number; pending_until: string | null}[];
  history: {kind: string; points: number; effective_at: string | null; order: string | null}[];
  vouchers: Voucher[];
}

export interface Conversion {
  minimum_points: number;
  value_per_point: string;
  minimum_subtotal?: string | null;
  validity_days?: number | null;
  terms?: Terms;
}

export interface LoyaltyPage {
  currency: string;
  programme: {
    language: string;
    ladder: {points: number; rewards: Reward[]}[];
    conversion: Conversion | null;
  };
  customer: Customer | null;
  branding?: {programme_name: string | null} | null;
  token?: string;
}

/** A line to translate: a locale key, its values, and the values that are amounts of the shop's money
 * (formatted with the shop's currency by the component). */
export interface Line {
  key: string;
  values?: Record<string, string | number>;
  amounts?: Record<string, string>;
  /** Values that are numbers of points (formatted as "1,200 points" in the customer's language). */
  points?: Record<string, number>;
}

/** The conditions of a voucher, in the order a shopper needs them where they decide: what it takes
 * (minimum basket, full-price items), how long it lasts, and what is lost. */
export function termsLines(terms: Terms | undefined | null): Line[] {
  if (!terms) return [];
  const lines: Line[] = [];
  if (terms.minimum_subtotal !== null && amountOf(terms.minimum_subtotal)) {
    lines.push({key: 'terms.minimum_subtotal', amounts: {amount: terms.minimum_subtotal}});
  }
  if (terms.full_price_only) lines.push({key: 'terms.full_price_only'});
  if (terms.validity_days) lines.push({key: 'terms.validity_days', values: {count: terms.validity_days}});
  if (terms.one_per_order) lines.push({key: 'terms.one_per_order'});
  if (!terms.combines_with_discounts) lines.push({key: 'terms.no_combining'});
  if (terms.points_lost_if_unused) lines.push({key: 'terms.points_lost_if_unused'});
  return lines;
}

/** When the available points expire: never, on a date (and how many), or nothing to say. */
export type ExpiryNote = {kind: 'never'} | {kind: 'on'; date: string; points: number} | null;

export function expiryNote(customer: Customer): ExpiryNote {
  const expiry = customer.expiry;
  if (!expiry) return null;
  if (expiry.policy === 'never') return {kind: 'never'};
  if (expiry.date && expiry.points > 0) return {kind: 'on', date: expiry.date, points: expiry.points};
  return null;
}

/** Pending points by order, soonest first (the app sorts them; sorted again so a missing date goes last). */
export function pendingLots(customer: Customer) {
  return [...customer.pending_points]
    .filter((lot) => lot.points > 0)
    .sort((a, b) => (a.pending_until ?? '9999').localeCompare(b.pending_until ?? '9999'));
}

export type RewardState = 'redeemable' | 'short' | 'tier_locked';

/** A reward's state from the app, else judged the same way: tier first, then AVAILABLE points only. */
export function rewardState(reward: CustomerReward, available: number): RewardState {
  if (reward.state) return reward.state;
  if (reward.tier_required) return 'tier_locked';
  return available >= reward.points ? 'redeemable' : 'short';
}

export interface RewardCard {
  reward: CustomerReward;
  state: RewardState;
  /** Points still missing (0 unless `short`), from available points. */
  missing: number;
  /** Only a redeemable reward gets a button. */
  canRedeem: boolean;
  terms: Line[];
}

/** The catalogue of rewards that spend points, as cards: redeemable ones first, then by price. */
export function rewardCards(customer: Customer): RewardCard[] {
  const order: Record<RewardState, number> = {redeemable: 0, short: 1, tier_locked: 2};
  return customer.rewards
    .map((reward) => {
      const state = rewardState(reward, customer.available);
      const missing = state === 'short' ? reward.missing ?? Math.max(0, reward.points - customer.available) : 0;
      return {reward, state, missing, canRedeem: state === 'redeemable', terms: termsLines(reward.terms)};
    })
    .sort((a, b) => order[a.state] - order[b.state] || a.reward.points - b.reward.points);
}

/** Confirmed lifetime points: what the ladder counts (pending points do not climb it yet). */
export function ladderPoints(customer: Customer): number {
  return customer.ladder_points ?? customer.lifetime - customer.pending;
}

export interface PerkLine {
  perk: Perk;
  earned: boolean;
  pointsToGo: number;
}

export function perkLine(perk: Perk, climbed: number): PerkLine {
  const earned = perk.state ? perk.state === 'earned' : perk.unlocked ?? climbed >= perk.points;
  const pointsToGo = earned ? 0 : perk.points_to_go ?? Math.max(0, perk.points - climbed);
  return {perk, earned, pointsToGo};
}

export interface LadderStep {
  points: number;
  reached: boolean;
  perks: PerkLine[];
  /** Rewards that unlock at this step but are paid with available points: never shown as earned. */
  rewards: {reward: Reward; state: RewardState}[];
}

export interface LadderView {
  steps: LadderStep[];
  climbed: number;
  earned: PerkLine[];
  ahead: PerkLine[];
  next: {threshold: number; toGo: number} | null;
  /** The progress bar towards the next threshold (or full at the top). */
  progress: {value: number; max: number};
}

/** Store A's ladder (perks at 150/300/500/1000): each threshold, the perks earned on confirmed lifetime
 * points vs those ahead, and the next threshold. Null for a programme without perks (store B). */
export function ladderView(page: LoyaltyPage): LadderView | null {
  const customer = page.customer;
  if (!customer || customer.perks.length === 0) return null;
  const climbed = ladderPoints(customer);
  const lines = customer.perks.map((perk) => perkLine(perk, climbed));
  const byKey = new Map(customer.rewards.map((r) => [r.key, r]));
  const thresholds = page.programme.ladder.length
    ? page.programme.ladder.map((step) => step.points)
    : [...new Set(customer.perks.map((p) => p.points))].sort((a, b) => a - b);
  const steps = thresholds.map((points) => {
    const catalogue = page.programme.ladder.find((step) => step.points === points)?.rewards ?? [];
    return {
      points,
      reached: climbed >= points,
      perks: lines.filter((line) => line.perk.points === points),
      rewards: catalogue.filter((r) => byKey.has(r.key)).map((r) => ({
        reward: r, state: rewardState(byKey.get(r.key)!, customer.available),
      })),
    };
  });
  const nextThreshold = customer.standing?.next_threshold ?? thresholds.find((t) => t > climbed) ?? null;
  const next = nextThreshold === null ? null : {
    threshold: nextThreshold,
    toGo: customer.standing?.points_to_next ?? Math.max(0, nextThreshold - climbed),
  };
  return {
    steps, climbed, next,
    earned: lines.filter((line) => line.earned),
    ahead: lines.filter((line) => !line.earned),
    progress: next ? {value: Math.min(climbed, next.threshold), max: next.threshold} : {value: 1, max: 1},
  };
}

export interface TierProgress {
  name: string | null;
  until: string | null;
  basis: TierView['basis'];
  next: {name: string; remaining: string | number} | null;
  progress: {value: number; max: number} | null;
}

/** The VIP tier and the way to the next one, in the basis' unit (amount spent, points, orders). */
export function tierProgress(customer: Customer): TierProgress | null {
  const tier = customer.tier;
  if (!tier) return null;
  const figure = amountOf(tier.figure) ?? 0;
  const threshold = tier.next ? amountOf(tier.next.threshold) ?? 0 : 0;
  return {
    name: tier.name, until: tier.until, basis: tier.basis,
    next: tier.next ? {name: tier.next.name, remaining: tier.next.remaining} : null,
    progress: tier.next && threshold > 0 ? {value: Math.min(figure, threshold), max: threshold} : null,
  };
}

export interface ConversionView {
  minimum: number;
  available: number;
  valuePerPoint: string;
  canConvert: boolean;
  terms: Line[];
}

/** Store B's convert box: null when the programme does not convert. The terms are those of the app
 * (contract A `conversion.terms`), else built from the conversion's own minimum and validity. */
export function conversionView(page: LoyaltyPage): ConversionView | null {
  const conversion = page.programme.conversion;
  if (!conversion || !page.customer) return null;
  const terms = conversion.terms ?? {
    validity_days: conversion.validity_days ?? null, minimum_subtotal: conversion.minimum_subtotal ?? null,
    full_price_only: false, one_per_order: false, points_lost_if_unused: false, combines_with_discounts: true,
  };
  const available = page.customer.available;
  return {
    minimum: conversion.minimum_points, available, valuePerPoint: conversion.value_per_point,
    canConvert: available >= conversion.minimum_points, terms: termsLines(terms),
  };
}

/** The number typed in the convert box, checked: a whole number between the minimum and the available
 * points; `amount` is what it would pay. An empty box is not an error yet (nothing typed). */
export type PointsCheck =
  | {ok: true; points: number; amount: number}
  | {ok: false; error: Line | null};

export function checkPoints(text: string, view: ConversionView): PointsCheck {
  const trimmed = text.trim();
  if (trimmed === '') return {ok: false, error: null};
  if (!/^\d+$/.test(trimmed)) return {ok: false, error: {key: 'convert.error_whole'}};
  const points = Number(trimmed);
  if (points < view.minimum) return {ok: false, error: {key: 'convert.error_minimum', points: {points: view.minimum}}};
  if (points > view.available) {
    return {ok: false, error: {key: 'convert.error_available', points: {points: view.available}}};
  }
  return {ok: true, points, amount: voucherAmount(points, view.valuePerPoint)};
}

export interface VoucherCard {
  voucher: Voucher;
  /** Only a code the customer can still use is offered for copying. */
  copyable: boolean;
}

/** The customer's vouchers, usable ones first (then newest first, as the app sends them). */
export function voucherCards(customer: Customer): VoucherCard[] {
  const cards = customer.vouchers.map((voucher) => ({
    voucher, copyable: Boolean(voucher.code) && voucher.status === 'active',
  }));
  return [...cards.filter((c) => c.copyable), ...cards.filter((c) => !c.copyable)];
}

/** The history's kinds and their locale keys (a kind the extension does not know reads as an adjustment). */
export const HISTORY_KEYS: Record<string, string> = {
  earn: 'history.earn', mature: 'history.mature', claw_back: 'history.claw_back', void: 'history.void',
  expire: 'history.expire', redeem: 'history.redeem', recredit: 'history.recredit', adjust: 'history.adjust',
  bonus: 'history.bonus',
};

export function historyKey(kind: string): string {
  return HISTORY_KEYS[kind] ?? 'history.adjust';
}

/** A voucher's status and its locale key. */
export const STATUS_KEYS: Record<string, string> = {
  active: 'status.active', used: 'status.used', expired: 'status.expired', cancelled: 'status.cancelled',
  refused: 'status.refused', creating: 'status.creating', donated: 'status.donated',
};

export function statusKey(status: string): string {
  return STATUS_KEYS[status] ?? 'status.creating';
}
