"""Query cost, computed the way Shopify's calculated query cost works, simplified.

The model:
- every selected field that returns an object, interface or union costs 1 point per
  object it can return; scalars and enums are free;
- a `first`/`last` argument says how many objects a field can return (for `nodes(ids:)`,
  the number of ids): a list field costs that many, and everything selected beneath it
  is multiplied by it;
- each mutation root field costs a flat MUTATION_COST, its payload selection is free.
Requested cost is that bound, computed on the document before running it; actual
cost counts the objects the response really holds (mutations: the same flat cost),
and the bucket refunds the difference, as Shopify does.
"""
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationType,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)

MUTATION_COST = 10
"""Shopify charges every mutation field 10 points, whatever its payload selects."""

_PAGE_ARGUMENTS = ("first", "last")


def requested_cost(schema, document, operation, variables):
    """Upper bound on the cost of `operation` (a node of the parsed `document`) before running it."""
    walker = _Walker(schema, document, operation, variables)
    is_mutation = operation.operation == OperationType.MUTATION
    root = schema.mutation_type if is_mutation else schema.query_type
    top_level = list(walker.fields(operation.selection_set, root))
    if is_mutation:
        return MUTATION_COST * len(top_level)
    return sum(walker.cost(node, parent, 1) for node, parent in top_level)


def actual_cost(operation, data):
    """Cost of what was served: objects present in `data`, or the flat cost per mutation field."""
    if not data:
        return 0
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(data)
    return sum(_count_objects(value) for value in data.values())


class _Walker:
    """Walks one document's selections with the schema at hand."""

    def __init__(self, schema, document, operation, variables):
        """Index the document's fragments; keep the variables (and their defaults) for `first: $n`."""
        self._schema = schema
        defaults = {
            d.variable.name.value: int(d.default_value.value)
            for d in operation.variable_definitions or ()
            if isinstance(d.default_value, IntValueNode)
        }
        self._variables = {**defaults, **(variables or {})}
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def cost(self, node, parent_type, multiplier):
        """Cost of one field node (and its selection) under `multiplier` parent objects."""
        fields = getattr(parent_type, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None:  # __typename, introspection, or a field the fallback schema lacks
            return 0
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0
        page = self._page_size(node)
        own = page if is_list_type(get_nullable_type(definition.type)) else 1
        total = multiplier * own
        if node.selection_set is not None:
            for child, child_parent in self.fields(node.selection_set, named):
                total += self.cost(child, child_parent, multiplier * page)
        return total

    def fields(self, selection_set, parent_type):
        """(field node, type it is selected on) pairs, fragments flattened onto their type condition."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent_type
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition, inner = fragment.type_condition, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            else:
                continue
            # Every branch of a union counts: a bound must not depend on which branch matches.
            narrowed = self._schema.get_type(condition.name.value) if condition else parent_type
            yield from self.fields(inner, narrowed)

    def _page_size(self, node):
        """The `first`/`last` argument of a field (literal or variable), the number of `ids`, else 1."""
        for argument in node.arguments:
            if argument.name.value == "ids":
                value = argument.value
                ids = self._variables.get(value.name.value) if isinstance(value, VariableNode) else \
                    getattr(value, "values", None)
                if isinstance(ids, (list, tuple)):
                    return len(ids)
                continue
            if argument.name.value not in _PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(0, int(value.value))
            if isinstance(value, VariableNode):
                bound = self._variables.get(value.name.value)
                if isinstance(bound, int):
                    return max(0, bound)
        return 1


def _count_objects(value):
    """Objects (dicts) in a result subtree, the subtree's root included."""
    if isinstance(value, dict):
        return 1 + sum(_count_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_objects(v) for v in value)
    return 0
