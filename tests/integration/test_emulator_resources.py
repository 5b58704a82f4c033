"""The emulator answers the programme editor's product and collection searches (COLLECTIONS_SEARCH,
PRODUCTS_SEARCH) and their titles by id (RESOURCES_BY_ID) as Shopify does, driven by the app's real
AdminClient and its adapter (integrations.shopify.resources)."""
import pytest

from integrations.shopify import resources
from integrations.shopify.client import AdminClient
from integrations.shopify.documents import COLLECTIONS_SEARCH
from integrations.shopify.errors import ShopifyGraphQLError
from tools.shopify_emulator import Emulator
from tools.wsgi_adapter import wsgi_session

SHOP = "demo.myshopify.com"
TOKEN = "demo-token"
BASE = "http://shopify.test"


@pytest.fixture
def emulator():
    """The demo shop with three collections and two products."""
    emulator = Emulator()
    emulator.add_shop(SHOP, TOKEN)
    emulator.add_product(SHOP, 11, "Linen shirt", [{"id": 111, "price": "40.00"}])
    emulator.add_product(SHOP, 12, "Cotton briefs", [{"id": 121, "price": "15.00"}])
    emulator.add_collection(SHOP, 1001, [11], title="Upcycled accessories")
    emulator.add_collection(SHOP, 1002, [12], title="Briefs selection")
    emulator.add_collection(SHOP, 2001, [11, 12], title="Full price")
    return emulator


@pytest.fixture
def client(emulator):
    return AdminClient(SHOP, TOKEN, admin_url_template=BASE + "/{shop}", session=wsgi_session(emulator.app, BASE),
                       sleep=lambda seconds: None)


def test_search_query_asks_for_title_words_starting_with_each_word_typed():
    assert resources.search_query("lin SHI") == "title:lin* title:SHI*"
    assert resources.search_query('  "a:b" (c) ') == "title:a* title:b* title:c*"
    assert resources.search_query("   ") is None


def test_collections_are_searched_by_title_words_sorted_by_title(client):
    assert resources.search(client, "collection", "", 20) == [
        {"id": 1002, "title": "Briefs selection"}, {"id": 2001, "title": "Full price"},
        {"id": 1001, "title": "Upcycled accessories"}]
    assert resources.search(client, "collection", "sel", 20) == [{"id": 1002, "title": "Briefs selection"}]
    assert resources.search(client, "collection", "full PR", 20) == [{"id": 2001, "title": "Full price"}]
    assert resources.search(client, "collection", "price full", 20) == [{"id": 2001, "title": "Full price"}]
    assert resources.search(client, "collection", "rice", 20) == []
    assert len(resources.search(client, "collection", "", 2)) == 2


def test_products_are_searched_by_title(client):
    assert resources.search(client, "product", "linen", 20) == [{"id": 11, "title": "Linen shirt"}]


def test_titles_by_id_in_the_order_asked_and_null_for_an_unknown_one(client, emulator):
    assert resources.titles(client, "collection", [2001, 9999, 1001]) == [
        {"id": 2001, "title": "Full price"}, {"id": 9999, "title": None}, {"id": 1001, "title": "Upcycled accessories"}]
    emulator.delete_collection(SHOP, 2001)
    assert resources.titles(client, "collection", [2001]) == [{"id": 2001, "title": None}]
    assert resources.titles(client, "product", [12]) == [{"id": 12, "title": "Cotton briefs"}]


def test_a_page_larger_than_250_is_refused_like_shopify(client):
    with pytest.raises(ShopifyGraphQLError, match="250"):
        client.execute(COLLECTIONS_SEARCH, {"query": None, "first": 251})
