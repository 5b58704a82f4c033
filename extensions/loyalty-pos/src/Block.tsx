/** Entry of pos.customer-details.block.render: the loyalty block on the POS customer screen. */
import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect} from 'preact/hooks';
import type {Api} from '@shopify/ui-extensions/pos.customer-details.block.render';
import {appApi, shopifyGlobal} from '../../shared/checkout-host.ts';
import {CustomerBlock} from './CustomerBlock.tsx';
import {posModel} from './customer.ts';

export function posApp(shopify: Api = shopifyGlobal<Api>()) {
  const model = posModel(appApi(() => shopify.session.getSessionToken()), () => shopify.customer.id);
  const Loader = () => {
    useEffect(() => { void model.load(); }, []);
    return <CustomerBlock state={model.state.value} i18n={shopify.i18n} />;
  };
  return {model, element: <Loader />};
}

export default async () => {
  render(posApp().element, document.body);
};
