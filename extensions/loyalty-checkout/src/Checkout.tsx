/** Entry of purchase.checkout.block.render: renders the loyalty block into the checkout. */
import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect} from 'preact/hooks';
import type {Api} from '@shopify/ui-extensions/purchase.checkout.block.render';
import {CheckoutBlock} from './CheckoutBlock.tsx';
import {checkoutModel, type CheckoutModel} from './redeem.ts';
import {appApi, shopifyGlobal} from '../../shared/checkout-host.ts';

/** The block and its model, wired to the `shopify` global and the app. */
export function checkoutApp(shopify: Api = shopifyGlobal<Api>()) {
  const model = checkoutModel(shopify, appApi(() => shopify.sessionToken.get()));
  return {model, element: <Loader model={model} shopify={shopify} />};
}

function Loader({model, shopify}: {model: CheckoutModel; shopify: Api}) {
  useEffect(() => { void model.load(); }, [model]);
  return <CheckoutBlock model={model} host={shopify} i18n={shopify.i18n} />;
}

export default async () => {
  render(checkoutApp().element, document.body);
};
