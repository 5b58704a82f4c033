"""Every document the app sends validates against Shopify's Admin schema."""
import pytest

from integrations.shopify.client import operation_name
from integrations.shopify.documents import ALL_DOCUMENTS
from tests.shopify_schema import ADMIN_SCHEMA_PATH, load_admin_schema, validation_errors


@pytest.fixture(scope="module")
def admin_schema():
    """The Admin schema, built once; the module skips when the reference file is absent."""
    schema = load_admin_schema()
    if schema is None:
        pytest.skip(f"Shopify Admin schema not found at {ADMIN_SCHEMA_PATH}")
    return schema


@pytest.mark.parametrize("name", sorted(ALL_DOCUMENTS))
def test_document_validates_against_admin_schema(admin_schema, name):
    """The document has no validation errors against the Admin schema."""
    assert validation_errors(ALL_DOCUMENTS[name]) == []


def test_invalid_documents_are_reported(admin_schema):
    """A misspelt field is caught, so the check above is not vacuous."""
    errors = validation_errors("query Broken { order(id: 1) { transactionz { kind } } }")
    assert any("transactionz" in message for message in errors)


def test_documents_are_named_and_unique():
    """Each document is one named operation, and no two share a name (logs and errors use it)."""
    names = [operation_name(document) for document in ALL_DOCUMENTS.values()]
    assert "anonymous" not in names
    assert len(set(names)) == len(names)
    assert "ORDER_TRANSACTIONS" in ALL_DOCUMENTS
