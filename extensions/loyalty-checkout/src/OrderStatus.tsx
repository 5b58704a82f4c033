/** Entry of customer-account.order-status.block.render (every plan): the points this order earned. A
 * customer who opened the page from a link without signing in is offered to (requireLogin). */
import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect} from 'preact/hooks';
import type {Api} from '@shopify/ui-extensions/customer-account.order-status.block.render';
import {OrderPoints} from './OrderPoints.tsx';
import {orderModel, type OrderModel} from './order.ts';
import {appApi, shopifyGlobal} from '../../shared/checkout-host.ts';

export function orderStatusApp(shopify: Api = shopifyGlobal<Api>()) {
  const model = orderModel(appApi(() => shopify.sessionToken.get()), () => shopify.order.value?.id,
    () => shopify.authenticationState.value === 'fully_authenticated' && Boolean(shopify.buyerIdentity?.customer.value));
  return {model, element: <Loader model={model} shopify={shopify} />};
}

function Loader({model, shopify}: {model: OrderModel; shopify: Api}) {
  useEffect(() => { void model.load(); }, [model]);
  return <OrderPoints model={model} i18n={shopify.i18n} onSignIn={() => void shopify.requireLogin()} />;
}

export default async () => {
  render(orderStatusApp().element, document.body);
};
