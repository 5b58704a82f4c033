/** Entry of purchase.thank-you.block.render (every plan): the points this order earns. */
import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect} from 'preact/hooks';
import type {Api} from '@shopify/ui-extensions/purchase.thank-you.block.render';
import {OrderPoints} from './OrderPoints.tsx';
import {orderModel, type OrderModel} from './order.ts';
import {appApi, shopifyGlobal} from '../../shared/checkout-host.ts';

export function thankYouApp(shopify: Api = shopifyGlobal<Api>()) {
  const model = orderModel(appApi(() => shopify.sessionToken.get()), () => shopify.orderConfirmation.value?.order.id,
    () => Boolean(shopify.buyerIdentity?.customer.value));
  return {model, element: <Loader model={model} shopify={shopify} />};
}

function Loader({model, shopify}: {model: OrderModel; shopify: Api}) {
  useEffect(() => { void model.load(); }, [model]);
  return <OrderPoints model={model} i18n={shopify.i18n} />;
}

export default async () => {
  render(thankYouApp().element, document.body);
};
