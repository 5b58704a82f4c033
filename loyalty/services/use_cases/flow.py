"""Shopify Flow actions: a checked request (loyalty.domain.flow.FlowAction) carried out in one transaction."""
from __future__ import annotations

from loyalty.domain.errors import FlowActionRefused
from loyalty.domain.flow import AWARD_POINTS, FlowAction
from loyalty.services import flow_actions
from loyalty.services.customers import find_customer, resolve_customer
from loyalty.services.shops import get_shop, shopify_shop_id
from loyalty.services.unit_of_work import UnitOfWork


def run_flow_action(action: FlowAction, uow: UnitOfWork) -> dict:
    """Carry out the action for its shop (installed: UnknownShop otherwise; the body's shop_id must be the
    shop's, when known) and customer (recorded if the app has not met them yet); returns what was done.
    FlowActionRefused (a 4xx) says why not."""
    with uow:
        conn = uow.conn
        shop = get_shop(conn, action.shop_domain)
        known = shopify_shop_id(conn, shop.domain)
        if known is not None and known != action.shopify_shop_id:
            raise FlowActionRefused(f"shop_id {action.shopify_shop_id} is not the id of {shop.domain}", 403,
                                    "shop_id")
        row = find_customer(conn, shop.id, str(action.shopify_customer_id))
        customer_id = row.id if row is not None else resolve_customer(
            conn, shop.id, action.shopify_customer_id, None, uow.now)
        do = flow_actions.award_points if action.handle == AWARD_POINTS else flow_actions.change_tier
        return {"action": action.handle, "action_run_id": action.action_run_id, **do(conn, shop, customer_id,
                                                                                      action, uow.now)}
