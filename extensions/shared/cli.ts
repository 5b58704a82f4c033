/**
 * The extensions' API client as a command, for the end-to-end tests (tests/e2e/test_extension_calls.py):
 * it calls the running app exactly as the extensions do, with the session token it is given.
 *
 *   APP_URL=http://127.0.0.1:PORT TOKEN=<jwt> node cli.mjs customer
 *   ... redeem-points N FORM_TOKEN | redeem-reward KEY FORM_TOKEN | checkout-points N FORM_TOKEN
 *   ... order ORDER_ID | pos CUSTOMER_ID
 *
 * Prints one JSON line: {"ok": true, "body": ...} or {"ok": false, "status", "key", "message", "retry"}.
 */
import {ApiError, loyaltyApi, type LoyaltyApi} from './api.ts';

declare const process: {env: Record<string, string | undefined>; argv: string[]; exitCode?: number};

async function run(api: LoyaltyApi, [command, arg, formToken]: string[]): Promise<unknown> {
  switch (command) {
    case 'customer': return api.customer();
    case 'redeem-points': return api.redeem({points: Number(arg)}, formToken);
    case 'redeem-reward': return api.redeem({reward: arg}, formToken);
    case 'checkout-points': return api.checkoutRedeem({points: Number(arg)}, formToken);
    case 'checkout-reward': return api.checkoutRedeem({reward: arg}, formToken);
    case 'order': return api.order(arg);
    case 'pos': return api.posCustomer(arg);
    default: throw new Error(`unknown command ${command}`);
  }
}

const api = loyaltyApi(process.env.APP_URL ?? '', async () => process.env.TOKEN ?? '');
try {
  console.log(JSON.stringify({ok: true, body: await run(api, process.argv.slice(2))}));
} catch (exc) {
  if (!(exc instanceof ApiError)) throw exc;
  console.log(JSON.stringify({ok: false, status: exc.status, key: exc.key, message: exc.message, retry: exc.retry}));
}
