"""Support's customer search as rules: names folded into keys, and what a typed query asks for
(loyalty.domain.customer_search)."""
from __future__ import annotations

from loyalty.domain.customer_search import (KEY_END, KEY_SIZE, SearchQuery, fold, name_keys, parse_query,
                                            prefix_range)


def test_names_are_folded_lower_case_without_accents_and_extra_spaces():
    """"  Élodie   MARTIN " -> "elodie martin": case, accents and spacing never stop a match."""
    assert fold("  Élodie   MARTIN ") == "elodie martin"
    assert fold("ÇA GARÇON Müller Straße") == "ca garcon muller strasse"
    assert fold("Zoë\tNoël") == "zoe noel"
    assert fold(None) == "" and fold("   ") == ""


def test_a_name_has_a_first_last_key_and_a_last_first_key():
    """Both orders are keys, so "élodie mar" and "martin élo" find the same person."""
    assert name_keys("Élodie", "Martin") == ("elodie martin", "martin elodie")
    assert name_keys(None, "Dupont") == ("dupont", "dupont")
    assert name_keys("Jean", "") == ("jean", "jean")
    assert name_keys(None, None) == (None, None) and name_keys(" ", "") == (None, None)


def test_a_key_is_cut_to_its_column():
    """Two 255-character names and a space fit; anything longer is cut (its start still found)."""
    key, _ = name_keys("a" * 300, "b" * 300)
    assert len(key) == KEY_SIZE and key.startswith("a" * 255)


def test_a_prefix_range_holds_exactly_the_keys_starting_with_it():
    """[p, p + U+10FFFF): every key with the prefix, none without."""
    low, high = prefix_range("mar")
    inside = ["mar", "marie dupont", "mar\uffff", "mar" + "\U0010fffe"]
    outside = ["ma", "mas", "mbr", "maq\U0010ffff", "élodie"]
    assert all(low <= k < high for k in inside)
    assert not any(low <= k < high for k in outside)
    assert high == "mar" + KEY_END


def test_an_empty_query_lists_everyone():
    assert parse_query("") == SearchQuery(everyone=True)
    assert parse_query("   ") == SearchQuery(everyone=True)
    assert parse_query(None) == SearchQuery(everyone=True)


def test_digits_are_a_shopify_id_or_an_order_number():
    """1001 may be customer 1001 or order #1001: both are looked for."""
    assert parse_query(" 1001 ") == SearchQuery(shopify_id=1001, order_names=("#1001", "1001"))


def test_a_gid_is_a_shopify_id_only():
    assert parse_query("gid://shopify/Customer/7") == SearchQuery(shopify_id=7)
    assert parse_query("gid://shopify/Customer/abc").nothing


def test_a_hash_number_is_an_order_name_only():
    assert parse_query("#1001") == SearchQuery(order_names=("#1001",))
    assert parse_query("# 1001") == SearchQuery(order_names=("#1001",))
    assert parse_query("#").nothing


def test_digits_beyond_a_shopify_id_still_look_for_an_order_number():
    """2**63 is no Shopify id (64-bit), but may be an order's number."""
    query = parse_query(str(2**63))
    assert query.shopify_id is None and query.order_names == (f"#{2**63}", str(2**63))


def test_digits_of_other_scripts_match_no_one():
    """"²" and Arabic-Indic digits are digits to Python, not ids or order numbers."""
    assert parse_query("²").nothing
    assert parse_query("١٢").nothing


def test_text_with_an_at_sign_is_an_email_prefix_only():
    assert parse_query("Vera@Exa") == SearchQuery(email="vera@exa")


def test_other_text_is_a_name_or_an_email_prefix():
    """"Élo" may be a first name or the start of elodie@...: the name folded, the email lower-case."""
    assert parse_query("  Élodie  Mar ") == SearchQuery(email="élodie mar", name="elodie mar")


def test_customers_webhooks_carry_names_and_tags_and_nothing_else():
    """customers/create|update: first and last name (trimmed, cut to 255) and tags (comma-separated, once)."""
    from integrations.shopify.translate import to_command
    from loyalty.domain.commands import CustomerProfile

    cmd = to_command("customers/update", {"id": 5, "email": "a@b.c", "first_name": " Élodie ", "last_name": "x" * 300,
                                          "tags": "vip, , newsletter,vip", "phone": "+33 6", "addresses": []})
    assert cmd.profile == CustomerProfile("Élodie", "x" * 255, ("vip", "newsletter"))
    assert to_command("customers/update", {"id": 5, "email": "a@b.c"}).profile is None  # nothing said: kept


def test_an_order_gives_its_customers_names_only_when_it_carries_them():
    from integrations.shopify.translate import order_facts
    from tests.factories import order

    body = order(customer_id=7, tags="vip")
    assert order_facts(body).profile is None  # tags without names: no profile (it would erase the names)
    body["customer"].update(first_name="Ana", last_name=None)
    assert (order_facts(body).profile.first_name, order_facts(body).profile.tags) == ("Ana", ("vip",))


def test_an_imported_orders_customer_gives_names_and_tags():
    """The GraphQL customer (history import, reconciliation): firstName, lastName, tags as a list."""
    from integrations.shopify.translate_graphql import _profile
    from loyalty.domain.commands import CustomerProfile

    assert _profile({"id": "gid://shopify/Customer/7", "firstName": "Zoé", "lastName": "Roux",
                     "tags": ["vip", " b2b "]}) == CustomerProfile("Zoé", "Roux", ("vip", "b2b"))
    assert _profile({}) is None
