/**
 * The extensions' client for the app's API (docs/extensions-api.md): every call carries a fresh Shopify
 * session token as a bearer token; answers are JSON; a refusal becomes an ApiError with the app's key and
 * its message in the programme's language, so the extension can show it as it is.
 */

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;
export type TokenSource = () => Promise<string>;

/** A refusal from the app (`status` 4xx/5xx, `key` like `error.not_enough_points`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly key: string,
    message: string,
    readonly retry: boolean = false,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What to redeem: a reward of the catalogue by key, or a number of points converted into a voucher. */
export type Redemption = {reward: string} | {points: number};

export interface LoyaltyApi {
  customer(): Promise<any>;
  redeem(what: Redemption, formToken: string): Promise<any>;
  checkoutRedeem(what: Redemption, formToken: string): Promise<any>;
  order(shopifyOrderId: string | number): Promise<any>;
  posCustomer(shopifyCustomerId: string | number): Promise<any>;
}

/** The numeric id at the end of a Shopify GID (`gid://shopify/Order/42` -> `42`), or the id itself. */
export function numericId(id: string | number): string {
  const text = String(id);
  const tail = text.slice(text.lastIndexOf('/') + 1);
  if (!/^\d+$/.test(tail)) throw new ApiError(400, 'error.bad_id', `not a Shopify id: ${text}`);
  return tail;
}

export function loyaltyApi(baseUrl: string, token: TokenSource, fetchImpl: Fetch = fetch): LoyaltyApi {
  const base = baseUrl.replace(/\/+$/, '');

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
    const headers: Record<string, string> = {Authorization: `Bearer ${await token()}`};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (exc) {
      throw new ApiError(0, 'error.network', exc instanceof Error ? exc.message : String(exc), true);
    }
    let data: any = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const key = typeof data?.error === 'string' ? data.error : `http.${response.status}`;
      const message = typeof data?.message === 'string' ? data.message : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, key, message, response.status === 409 || Boolean(data?.retry));
    }
    if (data === null) throw new ApiError(response.status, 'error.not_json', 'the app answered no JSON');
    return data;
  }

  return {
    customer: () => call('GET', '/extensions/customer'),
    redeem: (what, formToken) => call('POST', '/extensions/customer/redeem', {...what, token: formToken}),
    checkoutRedeem: (what, formToken) => call('POST', '/extensions/checkout/redeem', {...what, token: formToken}),
    order: (id) => call('GET', `/extensions/orders/${numericId(id)}`),
    posCustomer: (id) => call('GET', `/extensions/pos/customers/${numericId(id)}`),
  };
}
