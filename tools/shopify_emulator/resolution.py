"""How the emulator resolves any field and any abstract type (shared by the executor and the bulk operations,
which run documents of their own)."""
from collections.abc import Mapping

from graphql import GraphQLError, is_non_null_type

_MISSING = object()


def field_resolver(source, info, **arguments):
    """Read the field from a dict or attribute; call it with `(info, **arguments)` if it is a resolver."""
    if isinstance(source, Mapping):
        value = source.get(info.field_name, _MISSING)
    else:
        value = getattr(source, info.field_name, _MISSING)
    if value is _MISSING:
        field_type = info.parent_type.fields[info.field_name].type
        if info.path.prev is None or is_non_null_type(field_type):
            # Say plainly that the emulator, not the document, is at fault.
            raise GraphQLError(f"The Shopify emulator does not implement {info.parent_type.name}.{info.field_name}.")
        return None
    return value(info, **arguments) if callable(value) else value


def type_resolver(value, info, abstract_type):
    """Every view names its own object type, which is how interfaces and unions resolve."""
    return value.get("__typename") if isinstance(value, Mapping) else None
