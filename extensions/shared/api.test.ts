import {describe, expect, it} from 'vitest';
import {ApiError, loyaltyApi, numericId, type Fetch} from './api.ts';

type Seen = {url: string; init?: RequestInit};

function recording(status: number, body: unknown): {fetch: Fetch; seen: Seen[]} {
  const seen: Seen[] = [];
  const fetchImpl: Fetch = async (url, init) => {
    seen.push({url, init});
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {status});
  };
  return {fetch: fetchImpl, seen};
}

describe('loyaltyApi', () => {
  it('sends a fresh bearer token on every call', async () => {
    let n = 0;
    const {fetch, seen} = recording(200, {customer: null});
    const api = loyaltyApi('https://app.example/', async () => `token-${++n}`, fetch);
    await api.customer();
    await api.customer();
    expect(seen.map((s) => (s.init?.headers as Record<string, string>).Authorization))
      .toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(seen[0].url).toBe('https://app.example/extensions/customer');
  });

  it('posts a redemption as JSON with the form token', async () => {
    const {fetch, seen} = recording(200, {result: {voucher: {code: 'ABC'}}});
    const api = loyaltyApi('https://app.example', async () => 't', fetch);
    const answer = await api.redeem({points: 400}, 'form-1');
    expect(answer.result.voucher.code).toBe('ABC');
    expect(seen[0].init?.method).toBe('POST');
    expect(JSON.parse(String(seen[0].init?.body))).toEqual({points: 400, token: 'form-1'});
    expect((seen[0].init?.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('turns a refusal into an ApiError with the app key and message', async () => {
    const {fetch} = recording(422, {error: 'error.not_enough_points', message: 'Pas assez de points'});
    const api = loyaltyApi('https://app.example', async () => 't', fetch);
    const refusal = await api.redeem({reward: 'r'}, 'f').catch((e) => e);
    expect(refusal).toBeInstanceOf(ApiError);
    expect([refusal.status, refusal.key, refusal.message, refusal.retry])
      .toEqual([422, 'error.not_enough_points', 'Pas assez de points', false]);
  });

  it('marks a 409 as worth retrying and a non-JSON error by its status', async () => {
    const busy = await loyaltyApi('https://a', async () => 't', recording(409, {error: 'error.busy'}).fetch)
      .redeem({reward: 'r'}, 'f').catch((e) => e);
    expect(busy.retry).toBe(true);
    const broken = await loyaltyApi('https://a', async () => 't', recording(502, '<html>').fetch)
      .customer().catch((e) => e);
    expect([broken.status, broken.key]).toEqual([502, 'http.502']);
  });

  it('reports a network failure as status 0, retryable', async () => {
    const api = loyaltyApi('https://a', async () => 't', async () => { throw new TypeError('offline'); });
    const failure = await api.customer().catch((e) => e);
    expect([failure.status, failure.key, failure.retry]).toEqual([0, 'error.network', true]);
  });

  it('addresses orders and POS customers by their numeric id, from a GID too', async () => {
    const {fetch, seen} = recording(200, {});
    const api = loyaltyApi('https://a', async () => 't', fetch);
    await api.order('gid://shopify/Order/42');
    await api.posCustomer(7);
    expect(seen.map((s) => s.url)).toEqual(['https://a/extensions/orders/42', 'https://a/extensions/pos/customers/7']);
    expect(() => numericId('gid://shopify/Order/../admin')).toThrow(ApiError);
  });
});
