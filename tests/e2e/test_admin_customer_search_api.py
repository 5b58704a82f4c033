"""GET /admin/api/customers?q= as the customers page calls it: names, tags and balances in every row, found
by name, email, Shopify id or order number; every answer checked against admin/openapi.json (the `admin`
fixture), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.factories import customer, order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the suite's short secret


@pytest.fixture
def named(send, process):
    """Élodie Martin (tags vip, newsletter) bought order #3003; Marc Dupont has no order."""
    send("customers/create", {**customer(801, "elodie@example.com"), "first_name": "Élodie", "last_name": "Martin",
                              "tags": "vip, newsletter", "updated_at": "2025-03-01T10:00:00Z"})
    send("customers/create", {**customer(802, "marc@example.com"), "first_name": "Marc", "last_name": "Dupont",
                              "tags": "", "updated_at": "2025-03-01T10:00:00Z"})
    send("orders/paid", order(order_id=3003, lines=((50, 1),), email="elodie@example.com", customer_id=801))
    process()


def emails(admin, query: str) -> list[str]:
    return [c["email"] for c in admin.get(f"/customers?q={query}").get_json()["customers"]]


def test_a_row_has_names_tags_and_balances(admin, named):
    [row] = admin.get("/customers?q=%C3%A9lo").get_json()["customers"]  # "élo"
    assert (row["first_name"], row["last_name"], row["tags"]) == ("Élodie", "Martin", ["vip", "newsletter"])
    assert (row["email"], row["shopify_customer_id"], row["pending"]) == ("elodie@example.com", 801, 50)


def test_customers_are_found_by_name_email_id_and_order_number(admin, named):
    assert emails(admin, "ELODIE") == ["elodie@example.com"]
    assert emails(admin, "dupont") == ["marc@example.com"]
    assert emails(admin, "marc%20dup") == ["marc@example.com"]
    assert emails(admin, "marc@") == ["marc@example.com"]
    assert emails(admin, "802") == ["marc@example.com"]
    assert emails(admin, "gid://shopify/Customer/801") == ["elodie@example.com"]
    assert emails(admin, "%233003") == ["elodie@example.com"]  # "#3003"
    assert emails(admin, "3003") == ["elodie@example.com"]
    assert emails(admin, "nobody") == []


def test_a_search_keeps_page_and_has_more(admin, named):
    answer = admin.get("/customers?q=m&page=1").get_json()
    assert answer["page"] == 1 and not answer["has_more"]
    assert sorted(c["email"] for c in answer["customers"]) == ["elodie@example.com", "marc@example.com"]
    beyond = admin.get("/customers?q=m&page=41").get_json()  # past SEARCH_MAX_RESULTS (1,000): empty
    assert beyond["customers"] == [] and not beyond["has_more"]
