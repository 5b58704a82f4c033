"""Shared by the storefront tests: requests signed as Shopify's app proxy signs them, a pinned clock, the
Admin API emulator behind redemptions, and customers of store A (French ladder) and store B (conversion)."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from jobs.scheduled import mature_points
from integrations.shopify.app_proxy import sign
from tests.conftest import SECRET
from tests.factories import order

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
VERA, BEN = 301, 302


class Proxy:
    """Sends requests as Shopify forwards them from `/apps/loyalty` (query signed with the app secret)."""

    def __init__(self, client, shop: str):
        self.client, self.shop = client, shop

    def url(self, path: str = "", *, customer: int | None = None, at: datetime = NOW, shop: str | None = None,
            secret: str = SECRET, extra: tuple = ()) -> str:
        pairs = [("shop", shop or self.shop), ("logged_in_customer_id", "" if customer is None else str(customer)),
                 ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(at.timestamp()))), *extra]
        return f"/proxy{path}?" + urlencode(pairs + [("signature", sign(secret, pairs))])

    def get(self, customer=None, *, json=False, **kw):
        extra = (("format", "json"),) if json else kw.pop("extra", ())
        return self.client.get(self.url(customer=customer, extra=extra, **kw))

    def post(self, path, data, customer=None, *, json=False, follow=True, **kw):
        """POST a form; an HTML form's 303 (post/redirect/get) is followed as the shopper's browser follows it
        through Shopify (`follow=False`: the 303 itself)."""
        answer = self.client.post(self.url(path, customer=customer, extra=(("format", "json"),) if json else (),
                                           **kw), data=data)
        return self.follow(answer, customer, **kw) if follow and answer.status_code == 303 else answer

    def follow(self, answer, customer=None, **kw):
        """GET the page a 303 names (`/apps/loyalty?notice=...`), forwarded and signed as Shopify does."""
        location = urlsplit(answer.headers["Location"])
        assert location.path.startswith("/apps/loyalty"), location
        return self.client.get(self.url(location.path[len("/apps/loyalty"):], customer=customer,
                                        extra=tuple(parse_qsl(location.query)), **kw))


@pytest.fixture
def proxy(app, shop, emulator, factory):
    """The app on a pinned clock, redeeming against the emulator (conftest's `factory` clients), with
    Vera and Ben as the shop's customers there; `proxy.get(customer=301)`."""
    emulator.add_customer(shop.domain, VERA, "vera@example.com")
    emulator.add_customer(shop.domain, BEN, "ben@example.com")
    app.config["LOYALTY_CLOCK"] = lambda: NOW
    app.config["LOYALTY_CLIENT_FACTORY"] = factory
    return Proxy(app.test_client(), shop.domain)


def apply_template(ctx, shop, name: str, **changes):
    """Run the shop on a ready programme (store-a / store-b), as `loyalty programme apply` does."""
    from loyalty.domain.programme import template
    from loyalty.services.shops import get_shop, save_programme

    with ctx.engine.begin() as conn:
        prog = template(name).with_changes(**changes) if changes else template(name)
        save_programme(conn, get_shop(conn, shop.domain), prog, NOW)


def earn(send, process, ctx, customer_id: int, email: str, amount: int, processed_at: str, **fields):
    """An orders/paid for `amount` euros, applied; points before NOW's maturity run become available."""
    body = order(lines=((amount, 1),), email=email, customer_id=customer_id, processed_at=processed_at)
    body.update(fields)
    send("orders/paid", body)
    process()
    mature_points(NOW, ctx)
    return body
