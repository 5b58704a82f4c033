/**
 * Where the extensions meet Shopify: the `shopify` global of the target that runs (Shopify sets it before
 * the module's default export is called) and the app's API client carrying that target's session token.
 */
import {loyaltyApi, type Fetch, type LoyaltyApi} from '../../shared/api.ts';

/** The `shopify` global, typed as the running target's API. */
export function shopifyGlobal<T>(): T {
  return (globalThis as unknown as {shopify: T}).shopify;
}

/** The app's client with the target's session token (checkout, thank-you and order-status alike). */
export function appApi(sessionToken: {get(): Promise<string>}, fetchImpl: Fetch = (url, init) => fetch(url, init)): LoyaltyApi {
  return loyaltyApi(APP_URL, () => sessionToken.get(), fetchImpl);
}
