/**
 * Where the checkout and POS extensions meet Shopify: the `shopify` global of the target that runs
 * (Shopify sets it before calling the module's default export) and the app's API client carrying that
 * target's session token.
 */
import {ApiError, loyaltyApi, type Fetch, type LoyaltyApi} from './api.ts';

/** The `shopify` global, typed as the running target's API. */
export function shopifyGlobal<T>(): T {
  return (globalThis as unknown as {shopify: T}).shopify;
}

/** The app's client (APP_URL) sending the token `token()` gives; no token (POS offline) is a 401. */
export function appApi(token: () => Promise<string | undefined>, fetchImpl: Fetch = (url, init) => fetch(url, init)): LoyaltyApi {
  return loyaltyApi(APP_URL, async () => {
    const value = await token();
    if (!value) throw new ApiError(401, 'error.no_session_token', 'no session token');
    return value;
  }, fetchImpl);
}
