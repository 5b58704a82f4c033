"""Regenerate fallback_schema.graphql from Shopify's Admin schema (`../shared/shopify/admin_schema.graphql` or
$SHOPIFY_ADMIN_SCHEMA): every type and field the app's documents use (input types whole), plus those the
current fallback already has (the emulator's resolvers rely on them).

    python -m tools.shopify_emulator.make_fallback
"""
import sys
from pathlib import Path

import graphql
from graphql import (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType, GraphQLEnumType, GraphQLUnionType,
                     GraphQLScalarType, TypeInfo, visit, TypeInfoVisitor, Visitor, get_named_type, parse, build_schema)
from graphql.utilities.print_schema import print_type
from integrations.shopify.documents import ALL_DOCUMENTS
from tools.shopify_emulator.schema import FALLBACK_SDL, admin_schema_path, load_schema

loaded = load_schema(admin_schema_path())
if not loaded.validates:
    raise SystemExit(f"Shopify's Admin schema is needed: {admin_schema_path()} not found")
full = loaded.schema
old = build_schema(FALLBACK_SDL)
used = {}  # type name -> set of field names (output types)
named = set()

def need(t):
    t = get_named_type(t)
    if t.name in named: return
    named.add(t.name)
    if isinstance(t, GraphQLInputObjectType):
        for f in t.fields.values(): need(f.type)
    if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
        used.setdefault(t.name, set())

def use_field(parent, name):
    parent = get_named_type(parent)
    used.setdefault(parent.name, set()).add(name); need(parent)
    f = parent.fields[name]
    need(f.type)
    for a in f.args.values(): need(a.type)

# fields of the current fallback (the emulator's resolvers rely on them)
for tname, t in old.type_map.items():
    if tname.startswith("__"): continue
    if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
        for fname in t.fields: use_field(full.type_map[tname], fname)
    else:
        need(full.type_map[tname])

class Collect(Visitor):
    def __init__(self, ti): super().__init__(); self.ti = ti
    def enter_field(self, node, *_):
        parent = self.ti.get_parent_type()
        if parent is not None and not node.name.value.startswith("__"):
            use_field(parent, node.name.value)
    def enter_variable_definition(self, node, *_):
        t = graphql.type_from_ast(full, node.type); need(t)
    def enter_inline_fragment(self, node, *_):
        if node.type_condition: need(full.type_map[node.type_condition.name.value])

for name, doc in ALL_DOCUMENTS.items():
    ti = TypeInfo(full)
    visit(parse(doc), TypeInfoVisitor(ti, Collect(ti)))

# interfaces implemented by kept object types must keep the fields they declare
changed = True
while changed:
    changed = False
    for tname in list(used):
        t = full.type_map[tname]
        if isinstance(t, GraphQLObjectType):
            for i in t.interfaces:
                if i.name in named:
                    for f in used.get(i.name, ()):
                        if f not in used[tname]:
                            use_field(t, f); changed = True
        if isinstance(t, GraphQLInterfaceType):
            for f in list(used[tname]):
                for impl in full.get_possible_types(t):
                    if impl.name in named and f not in used.setdefault(impl.name, set()):
                        use_field(impl, f); changed = True

out = []
builtin = {"String", "Int", "Float", "Boolean", "ID"}
for tname in sorted(named - builtin):
    t = full.type_map[tname]
    if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
        fields = {k: graphql.GraphQLField(v.type, args={a: graphql.GraphQLArgument(av.type, default_value=av.default_value) for a, av in v.args.items()})
                  for k, v in t.fields.items() if k in used.get(tname, set())}
        cls = GraphQLObjectType if isinstance(t, GraphQLObjectType) else GraphQLInterfaceType
        ifaces = [i for i in t.interfaces if i.name in named]
        out.append(print_type(cls(tname, fields, interfaces=ifaces)))
    elif isinstance(t, GraphQLInputObjectType):
        fields = {k: graphql.GraphQLInputField(v.type, default_value=v.default_value) for k, v in t.fields.items()}
        out.append(print_type(GraphQLInputObjectType(tname, fields)))
    elif isinstance(t, GraphQLEnumType):
        out.append(print_type(GraphQLEnumType(tname, {k: graphql.GraphQLEnumValue(v.value) for k, v in t.values.items()})))
    elif isinstance(t, GraphQLUnionType):
        out.append(print_type(GraphQLUnionType(tname, [p for p in t.types if p.name in named])))
    elif isinstance(t, GraphQLScalarType):
        out.append(f"scalar {tname}")
sdl = "schema { query: QueryRoot mutation: Mutation }\n" + "\n".join(out) + "\n"
schema = build_schema(sdl)
for name, doc in ALL_DOCUMENTS.items():
    errs = graphql.validate(schema, parse(doc))
    assert not errs, (name, errs[:2])
print(len(sdl), "chars", len(out), "types", file=sys.stderr)
Path(__file__).with_name("fallback_schema.graphql").write_text(sdl, encoding="utf-8")
