/**
 * Test doubles at the two edges of the extension: a fake `shopify` global (translate returns the key and
 * its values, formatters are plain and locale-free) and a fake fetch answering like the app's API.
 */
import {loyaltyApi, type LoyaltyApi} from '../../../shared/api.ts';
import {AccountStore} from '../store.ts';

/** `key` or `key{name=value,...}`: what the fake translate returns, so tests read keys and values. */
export function tr(key: string, values?: Record<string, unknown>): string {
  const entries = Object.entries(values ?? {});
  return entries.length ? `${key}{${entries.map(([k, v]) => `${k}=${v}`).join(',')}}` : key;
}

/** What the page shows for a number of points (the fake formats numbers with a thin grouping). */
export function pts(count: number): string {
  return tr('points', {count, formatted: count.toLocaleString('en-US')});
}

export function installShopify(token = 'session-token') {
  const shopify = {
    i18n: {
      translate: (key: string, values?: Record<string, unknown>) => tr(key, values),
      formatNumber: (n: number) => n.toLocaleString('en-US'),
      formatCurrency: (n: number, options?: {currency?: string}) => `${options?.currency ?? '?'} ${n.toFixed(2)}`,
      formatDate: (d: Date) =>
        `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`,
    },
    sessionToken: {get: async () => token},
  };
  (globalThis as Record<string, unknown>).shopify = shopify;
  return shopify;
}

export interface Sent {
  method: string;
  url: string;
  authorization: string;
  body: any;
}

/** A fake of the app's API: `routes` answers by "METHOD path" with a status and a JSON body (or a
 * function of the request body); every request is recorded. */
export function fakeApp(routes: Record<string, [number, unknown] | ((body: any) => [number, unknown])>) {
  const sent: Sent[] = [];
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? 'GET';
    const path = new URL(url).pathname;
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    sent.push({method, url: path, authorization: (init?.headers as Record<string, string>).Authorization, body});
    const route = routes[`${method} ${path}`];
    if (!route) return new Response(JSON.stringify({error: 'not_found', message: 'no route'}), {status: 404});
    const [status, answer] = typeof route === 'function' ? route(body) : route;
    return new Response(JSON.stringify(answer), {status});
  };
  return {fetch, sent};
}

/** A store talking to the fake app with the fake shopify global's session token. */
export function storeFor(app: ReturnType<typeof fakeApp>): {store: AccountStore; api: LoyaltyApi} {
  const shopify = installShopify();
  const api = loyaltyApi('https://loyalty.test', () => shopify.sessionToken.get(), app.fetch);
  return {store: new AccountStore(api), api};
}
