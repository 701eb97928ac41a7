"""The query planner: a client operation in, a plain-data :class:`QueryPlan` out.

Planning walks the client's selections with a current *fetch group* (one request
to one subgraph). A field the group's subgraph can resolve is added to its
selection; a field it cannot resolve makes an *entity jump*: the key fields (and
any ``@requires`` fields) are added to the current group, and the field goes to a
child group that fetches ``_entities`` from a subgraph that resolves it. Groups
with the same parent, subgraph and response path are merged, so one fetch serves
every field that needs it. The groups and their dependencies become a tree of
Sequence, Parallel, Flatten and Fetch nodes.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    SelectionSetNode,
    get_named_type,
)

from gateway.errors import PlanningError
from gateway.operation import (
    FieldSelection,
    FragmentSelection,
    PreparedOperation,
    Selection,
    convert_selection_set,
    variables_in,
)
from gateway.query_plan import (
    FetchNode,
    FlattenNode,
    KeyRename,
    ParallelNode,
    PlanNode,
    ProjectedField,
    QueryPlan,
    RequiresSelection,
    ResponsePath,
    SequenceNode,
)
from gateway.supergraph import EntityKey, FieldInGraph, Supergraph

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
INTERNAL_ALIAS_PREFIX = "__tonle_"
_VARIABLE = re.compile(r"\$([_A-Za-z][_0-9A-Za-z]*)")

# field name -> what is provided below it (None for a leaf)
Provided = dict[str, "Provided | None"]


@dataclass
class OutField:
    response_key: str
    name: str
    args_text: str
    directives_text: str
    children: OutSelection | None
    # the field's type in the subgraph, composite names as "*": what the GraphQL rule
    # on overlapping fields compares between sibling fragments
    shape: str = ""
    renamed_from: str | None = None


@dataclass
class OutSelection:
    """A selection set being built for one subgraph request."""

    fields: dict[str, OutField] = field(default_factory=dict)
    fragments: dict[tuple[str, str], OutSelection] = field(default_factory=dict)

    def add_field(
        self,
        key: str,
        name: str,
        args_text: str,
        directives_text: str,
        composite: bool,
        shape: str = "",
    ) -> OutField:
        existing = self.fields.get(key)
        if existing is not None:
            if existing.directives_text != directives_text:
                existing.directives_text = ""  # selected unconditionally somewhere
            return existing
        out = OutField(
            key, name, args_text, directives_text, OutSelection() if composite else None, shape
        )
        self.fields[key] = out
        return out

    def fragment(self, type_name: str, directives_text: str = "") -> OutSelection:
        return self.fragments.setdefault((type_name, directives_text), OutSelection())

    def is_empty(self) -> bool:
        return not self.fields and all(f.is_empty() for f in self.fragments.values())

    def render(self) -> str:
        parts: list[str] = []
        for f in self.fields.values():
            head = f.name if f.response_key == f.name else f"{f.response_key}:{f.name}"
            text = head + f.args_text + f.directives_text
            if f.children is not None:
                text += f.children.render()
            parts.append(text)
        for (type_name, directives), sub in self.fragments.items():
            if not sub.is_empty():
                parts.append(f"...on {type_name}{directives}{sub.render()}")
        return "{" + " ".join(parts) + "}"


@dataclass
class FetchGroup:
    id: int
    graph: str
    parent: FetchGroup | None
    merge_path: ResponsePath
    type_name: str | None = None  # root type for root groups
    out: OutSelection = field(default_factory=OutSelection)
    variables: set[str] = field(default_factory=set)
    deps: set[int] = field(default_factory=set)
    requires: dict[str, dict[str, ProjectedField]] = field(default_factory=dict)
    sent_typenames: dict[str, str] = field(default_factory=dict)
    parent_ctx: dict[str, Ctx] = field(default_factory=dict)
    # the @requires field sets planned into the representations, by type
    required: dict[str, list[tuple[Selection, ...]]] = field(default_factory=dict)

    @property
    def is_entity(self) -> bool:
        return self.parent is not None


@dataclass(frozen=True)
class Ctx:
    """Where planning stands: a group, the selection being filled, the response path."""

    group: FetchGroup
    out: OutSelection
    path: ResponsePath
    provided: Provided | None
    at_entity_root: bool
    client_keys: dict[str, tuple[str, str]]
    up: Up | None = None


@dataclass(frozen=True)
class Up:
    """The field whose selection a context fills, and the context it was selected in."""

    ctx: Ctx
    parent_type: str
    sel: FieldSelection
    type_: GraphQLOutputType


def _list_depth(type_: GraphQLOutputType) -> int:
    depth = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            depth += 1
        type_ = type_.of_type
    return depth


def _provided_tree(selection_set: SelectionSetNode) -> Provided:
    tree: Provided = {}
    for sel in convert_selection_set(selection_set, {}):
        _merge_provided(tree, sel)
    return tree


def _merge_provided(tree: Provided, sel: Selection) -> None:
    if isinstance(sel, FragmentSelection):
        for inner in sel.selections:
            _merge_provided(tree, inner)
        return
    if sel.selections is None:
        tree.setdefault(sel.name, None)
        return
    sub = tree.get(sel.name) or {}
    for inner in sel.selections:
        _merge_provided(sub, inner)
    tree[sel.name] = sub


class QueryPlanner:
    """Plans operations against one supergraph; pure and synchronous."""

    def __init__(self, supergraph: Supergraph, api_schema: GraphQLSchema) -> None:
        self.supergraph = supergraph
        self.schema = api_schema

    # -- entry point -----------------------------------------------------------------

    def plan(self, operation: PreparedOperation) -> QueryPlan:
        return _Planning(self, operation).run()


class _Planning:
    def __init__(self, planner: QueryPlanner, operation: PreparedOperation) -> None:
        self.sg = planner.supergraph
        self.schema = planner.schema
        self.operation = operation
        self.groups: list[FetchGroup] = []
        self.roots: list[FetchGroup] = []
        self.child_index: dict[tuple[int, str, ResponsePath], FetchGroup] = {}
        self.ids = itertools.count()
        self.touched: list[set[int]] = []
        self.planning_for: list[int] = []
        self.jumping: set[tuple[int, str, str, ResponsePath]] = set()
        # (response path, field name) -> arguments -> the response key fetched under
        self.representation_keys: dict[tuple[ResponsePath, str], dict[str, str]] = {}

    # -- groups ----------------------------------------------------------------------

    def new_group(
        self, graph: str, parent: FetchGroup | None, path: ResponsePath, type_name: str | None
    ) -> FetchGroup:
        group = FetchGroup(
            id=next(self.ids), graph=graph, parent=parent, merge_path=path, type_name=type_name
        )
        self.groups.append(group)
        return group

    def child_group(
        self,
        ctx: Ctx,
        graph: str,
        type_name: str,
        requires: tuple[str, tuple[Selection, ...]] | None = None,
    ) -> FetchGroup:
        key = (ctx.group.id, graph, ctx.path)
        group = self.child_index.get(key)
        if group is not None and requires is not None and self._requires_conflict(group, *requires):
            # A representation holds one value per field: a @requires of a field with
            # other arguments than one already in the group's needs a fetch of its own.
            group = next(
                (
                    g
                    for g in self.groups
                    if g.parent is ctx.group
                    and g.graph == graph
                    and g.merge_path == ctx.path
                    and not self._requires_conflict(g, *requires)
                ),
                None,
            )
            if group is None or group.id in self.planning_for or self._depends_on_any(group):
                group = self.new_group(graph, ctx.group, ctx.path, None)
        elif group is None or group.id in self.planning_for or self._depends_on_any(group):
            group = self.new_group(graph, ctx.group, ctx.path, None)
            if key not in self.child_index:
                self.child_index[key] = group
        group.parent_ctx.setdefault(type_name, ctx)
        for touched in self.touched:
            touched.add(group.id)
        return group

    @staticmethod
    def _requires_conflict(
        group: FetchGroup, type_name: str, selections: tuple[Selection, ...]
    ) -> bool:
        return any(_arguments_differ(selections, r) for r in group.required.get(type_name, ()))

    def _depends_on_any(self, group: FetchGroup) -> bool:
        """Whether ``group`` depends on a group whose requirements are being planned."""
        if not self.planning_for:
            return False
        by_id = {g.id: g for g in self.groups}
        pending = [group]
        seen: set[int] = set()
        while pending:
            g = pending.pop()
            for dep in g.deps | ({g.parent.id} if g.parent else set()):
                if dep in self.planning_for:
                    return True
                if dep not in seen:
                    seen.add(dep)
                    pending.append(by_id[dep])
        return False

    # -- type helpers -----------------------------------------------------------------

    @property
    def types(self) -> GraphQLSchema:
        """The schema whose types planning sees.

        A representation may need the fields of a type the API schema hides (an
        @inaccessible member of an interface): while fields for a representation are
        planned, the full supergraph schema is used.
        """
        return self.sg.schema if self.planning_for else self.schema

    def is_abstract(self, type_name: str) -> bool:
        return isinstance(self.types.get_type(type_name), GraphQLInterfaceType | GraphQLUnionType)

    def applies(self, condition: str | None, runtime: str) -> bool:
        if condition is None or condition == runtime:
            return True
        schema = self.types
        cond_type = schema.get_type(condition)
        runtime_type = schema.get_type(runtime)
        if isinstance(cond_type, GraphQLInterfaceType | GraphQLUnionType) and isinstance(
            runtime_type, GraphQLObjectType
        ):
            return schema.is_sub_type(cond_type, runtime_type)
        return False

    def possible_in_graph(self, abstract: str, graph: str) -> list[str]:
        schema = self.types
        abstract_type = schema.get_type(abstract)
        assert isinstance(abstract_type, GraphQLInterfaceType | GraphQLUnionType)
        abstract_info = self.sg.types.get(abstract)
        found = []
        for runtime in schema.get_possible_types(abstract_type):
            info = self.sg.types.get(runtime.name)
            if info is None or graph not in info.graphs:
                continue
            if isinstance(abstract_type, GraphQLUnionType):
                members = abstract_info.union_members if abstract_info else {}
                if members and runtime.name not in members.get(graph, set()):
                    continue
            else:
                if info.implements and abstract not in info.implements.get(graph, set()):
                    continue
            found.append(runtime.name)
        return found

    def field_in_graph(self, type_name: str, field_name: str, graph: str) -> FieldInGraph | None:
        return self.sg.field_graphs(type_name, field_name).get(graph)

    def resolvable_locally(
        self,
        graph: str,
        type_name: str,
        field_name: str,
        provided: Provided | None,
        entity_root: bool,
    ) -> bool:
        if field_name == "__typename":
            return True
        fig = self.field_in_graph(type_name, field_name, graph)
        if fig is None or fig.overridden:
            return False
        if fig.external:
            return provided is not None and field_name in provided
        if fig.requires is not None:
            return entity_root
        return True

    def fieldset_local(
        self,
        graph: str,
        type_name: str,
        selections: tuple[Selection, ...],
        provided: Provided | None,
        entity_root: bool,
    ) -> bool:
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                if not self.fieldset_local(graph, type_name, sel.selections, provided, entity_root):
                    return False
                continue
            if not self.resolvable_locally(graph, type_name, sel.name, provided, entity_root):
                return False
            if sel.selections is not None:
                fdef = self._field_def(type_name, sel.name)
                sub_provided = provided.get(sel.name) if provided else None
                if not self.fieldset_local(
                    graph, get_named_type(fdef.type).name, sel.selections, sub_provided, False
                ):
                    return False
        return True

    def score(
        self,
        graph: str,
        type_name: str,
        selections: tuple[Selection, ...] | None,
        provided: Provided | None = None,
    ) -> int:
        """How many of the selected fields ``graph`` resolves without a jump.

        Under an abstract type every runtime type the subgraph has counts, and fields
        a ``@provides`` covers count as the subgraph's own.
        """
        if not selections:
            return 0
        if self.is_abstract(type_name):
            return sum(
                self.score(graph, runtime, self._for_runtime(selections, runtime), provided)
                for runtime in self.possible_in_graph(type_name, graph)
            )
        total = 0
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                if self.applies(sel.type_condition, type_name):
                    total += self.score(graph, type_name, sel.selections, provided)
                continue
            if sel.name == "__typename":
                continue
            if self.resolvable_locally(graph, type_name, sel.name, provided, False):
                total += 1 + self.field_score(graph, type_name, sel, provided)
        return total

    def field_score(
        self, graph: str, type_name: str, sel: FieldSelection, provided: Provided | None = None
    ) -> int:
        """The score of a field's subselection in ``graph``, its own @provides included."""
        if sel.selections is None:
            return 0
        fig = self.field_in_graph(type_name, sel.name, graph)
        if fig is not None and fig.provides is not None:
            provided = _provided_tree(fig.provides)
        else:
            provided = provided.get(sel.name) if provided else None
        target = get_named_type(self._field_def(type_name, sel.name).type).name
        return self.score(graph, target, sel.selections, provided)

    def _field_def(self, type_name: str, field_name: str):  # type: ignore[no-untyped-def]
        # @requires and @key may name @inaccessible fields: those are only in the full schema.
        for schema in (self.schema, self.sg.schema):
            type_ = schema.get_type(type_name)
            if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
                fdef = type_.fields.get(field_name)
                if fdef is not None:
                    return fdef
        raise PlanningError(f"{type_name}.{field_name} is not in the API schema.")

    # -- the walk ---------------------------------------------------------------------

    def run(self) -> QueryPlan:
        op = self.operation
        root_type = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[op.kind]
        if root_type is None:
            raise PlanningError(f"the schema has no {op.kind} type.")
        if op.kind == "subscription":
            raise PlanningError(
                "subscriptions are not supported by this gateway.",
                suggestion="Use a query, or poll.",
            )
        self.plan_root(root_type.name, op.selections, "", op.kind == "mutation")
        return QueryPlan(node=self.build_tree())

    def plan_root(
        self,
        root: str,
        selections: tuple[Selection, ...],
        directives_text: str,
        ordered: bool,
        condition_vars: frozenset[str] = frozenset(),
    ) -> None:
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                if not self.applies(sel.type_condition, root):
                    continue
                self.plan_root(
                    root,
                    sel.selections,
                    directives_text + sel.directives_text,
                    ordered,
                    condition_vars | variables_in(sel.directives),
                )
                continue
            if sel.name == "__typename" or sel.name in INTROSPECTION_FIELDS:
                continue
            candidates = [
                g
                for g, fig in self.sg.field_graphs(root, sel.name).items()
                if not fig.external and not fig.overridden
            ]
            if not candidates:
                raise PlanningError(f"no subgraph resolves {root}.{sel.name}.")
            if ordered:
                last = self.roots[-1] if self.roots else None
                if last is not None and last.graph in candidates:
                    group = last
                else:
                    group = self.new_group(candidates[0], None, (), root)
                    self.roots.append(group)
            else:
                existing = {g.graph: g for g in self.roots}
                best = max(
                    candidates,
                    key=lambda g: (
                        self.field_score(g, root, sel),
                        g in existing,
                        -candidates.index(g),
                    ),
                )
                group = existing.get(best) or self.new_group(best, None, (), root)
                if group not in self.roots:
                    self.roots.append(group)
            out = group.out
            if directives_text:
                out = out.fragment(root, directives_text)
                group.variables |= condition_vars
            ctx = Ctx(group, out, (), None, False, {})
            self.plan_field(ctx, root, sel)

    def plan_selections(
        self, ctx: Ctx, parent_type: str, selections: tuple[Selection, ...]
    ) -> None:
        info = self.sg.types.get(parent_type)
        if info is not None and ctx.group.graph in info.interface_object_graphs:
            self.plan_interface_object(ctx, parent_type, selections)
            return
        if self.is_abstract(parent_type):
            ctx.out.add_field("__typename", "__typename", "", "", False)
            possible = self.possible_in_graph(parent_type, ctx.group.graph)
            if not possible:
                self.plan_without_implementations(ctx, parent_type, selections)
                return
            for runtime in possible:
                relevant = self._for_runtime(selections, runtime)
                if not relevant:
                    continue
                sub = Ctx(
                    ctx.group,
                    ctx.out.fragment(runtime),
                    ctx.path,
                    ctx.provided,
                    ctx.at_entity_root,
                    self.client_keys(selections, runtime),
                    ctx.up,
                )
                self.plan_concrete(sub, runtime, relevant)
            return
        sub = Ctx(
            ctx.group,
            ctx.out,
            ctx.path,
            ctx.provided,
            ctx.at_entity_root,
            self.client_keys(selections, parent_type),
            ctx.up,
        )
        self.plan_concrete(sub, parent_type, selections)

    def plan_without_implementations(
        self, ctx: Ctx, abstract: str, selections: tuple[Selection, ...]
    ) -> None:
        """An abstract type no object type of this subgraph implements.

        Its own fields are asked as they are (the subgraph will say what it makes of
        them); a field it does not have cannot be reached at all.
        """
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                if sel.type_condition in (None, abstract):
                    self.plan_without_implementations(ctx, abstract, sel.selections)
                continue
            if sel.name == "__typename":
                continue
            if not self.resolvable_locally(
                ctx.group.graph, abstract, sel.name, ctx.provided, False
            ):
                raise PlanningError(
                    f"cannot plan {abstract}.{sel.name}: no type of subgraph "
                    f"{self.sg.subgraphs[ctx.group.graph].name!r} implements {abstract}, so "
                    "its objects cannot be sent to a subgraph that resolves the field."
                )
            self.add_local(ctx, abstract, sel)

    def plan_interface_object(
        self, ctx: Ctx, interface: str, selections: tuple[Selection, ...]
    ) -> None:
        """Plan under an interface that this subgraph only knows as an @interfaceObject.

        The subgraph answers ``__typename`` with the interface's name, so anything that
        needs the real type (``__typename``, type conditions, fields it lacks) is fetched
        from a subgraph that knows the interface as one, by the interface's key.
        """
        graph = ctx.group.graph
        local: list[FieldSelection] = []
        rest: list[Selection] = []
        for sel in selections:
            if (
                isinstance(sel, FieldSelection)
                and sel.name != "__typename"
                and self.resolvable_locally(graph, interface, sel.name, ctx.provided, False)
            ):
                local.append(sel)
            elif (
                isinstance(sel, FragmentSelection)
                and sel.type_condition in (None, interface)
                and not sel.directives_text
            ):
                self.plan_interface_object(ctx, interface, sel.selections)
            else:
                rest.append(sel)
        ctx.out.add_field("__typename", "__typename", "", "", False)
        keys_ctx = Ctx(
            ctx.group,
            ctx.out,
            ctx.path,
            ctx.provided,
            ctx.at_entity_root,
            self.client_keys(selections, interface),
            ctx.up,
        )
        for field_sel in local:
            self.add_local(keys_ctx, interface, field_sel)
        info = self.sg.types[interface]
        # A field of the interface itself that another @interfaceObject subgraph
        # resolves is fetched from it directly: no need to learn the concrete type.
        elsewhere: list[Selection] = []
        for sel in rest:
            source = (
                self._interface_object_source(keys_ctx, interface, sel.name)
                if isinstance(sel, FieldSelection) and sel.name != "__typename"
                else None
            )
            if source is None:
                elsewhere.append(sel)
                continue
            target, key = source
            assert isinstance(sel, FieldSelection)
            child = self.child_group(keys_ctx, target, interface)
            self.ensure_representation(child, keys_ctx, interface, key.selection)
            shape = child.requires[interface]
            for runtime in self.schema.get_possible_types(self.schema.get_type(interface)):  # type: ignore[arg-type]
                child.requires.setdefault(runtime.name, shape)
                child.sent_typenames.setdefault(runtime.name, interface)
                child.parent_ctx.setdefault(runtime.name, keys_ctx)
            child_ctx = Ctx(child, child.out.fragment(interface), ctx.path, None, True, {})
            self.plan_field(child_ctx, interface, sel)
        rest = elsewhere
        if not rest:
            return
        targets = [
            (g, [k for k in keys if k.resolvable])
            for g, keys in info.keys.items()
            if g not in info.interface_object_graphs
        ]
        targets = [(g, keys) for g, keys in targets if keys]
        if not targets:
            raise PlanningError(
                f"cannot find the concrete type of {interface} objects from subgraph "
                f"{self.sg.subgraphs[graph].name!r}: no subgraph knows {interface} as an "
                "interface with a resolvable @key."
            )
        target, keys = targets[0]
        child = self.child_group(keys_ctx, target, interface)
        self.ensure_representation(child, keys_ctx, interface, keys[0].selection)
        child_ctx = Ctx(child, child.out.fragment(interface), ctx.path, None, True, {})
        self.plan_selections(child_ctx, interface, tuple(rest))

    def _interface_object_source(
        self, ctx: Ctx, interface: str, field_name: str
    ) -> tuple[str, EntityKey] | None:
        info = self.sg.types[interface]
        for graph in sorted(info.interface_object_graphs - {ctx.group.graph}):
            fig = self.field_in_graph(interface, field_name, graph)
            if fig is None or fig.external or fig.overridden:
                continue
            for key in info.keys.get(graph, []):
                if key.resolvable and self._key_local(ctx, interface, key):
                    return graph, key
        return None

    def _for_runtime(
        self, selections: tuple[Selection, ...], runtime: str
    ) -> tuple[Selection, ...]:
        kept: list[Selection] = []
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                if self.applies(sel.type_condition, runtime):
                    kept.append(sel)
            else:
                kept.append(sel)
        return tuple(kept)

    def client_keys(
        self, selections: tuple[Selection, ...], runtime: str
    ) -> dict[str, tuple[str, str]]:
        keys: dict[str, tuple[str, str]] = {}
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                if self.applies(sel.type_condition, runtime):
                    keys.update(self.client_keys(sel.selections, runtime))
            else:
                keys.setdefault(sel.response_key, (sel.name, sel.args_text))
        return keys

    def plan_concrete(self, ctx: Ctx, type_name: str, selections: tuple[Selection, ...]) -> None:
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                if not self.applies(sel.type_condition, type_name):
                    continue
                if sel.directives_text:
                    ctx.group.variables |= variables_in(sel.directives)
                    inner = Ctx(
                        ctx.group,
                        ctx.out.fragment(type_name, sel.directives_text),
                        ctx.path,
                        ctx.provided,
                        ctx.at_entity_root,
                        ctx.client_keys,
                        ctx.up,
                    )
                    self.plan_concrete(inner, type_name, sel.selections)
                else:
                    self.plan_concrete(ctx, type_name, sel.selections)
            else:
                self.plan_field(ctx, type_name, sel)

    def plan_field(self, ctx: Ctx, type_name: str, sel: FieldSelection) -> None:
        if sel.name == "__typename":
            # Its @skip/@include go with it, and so do their variables.
            ctx.group.variables |= variables_in(sel.directives)
            ctx.out.add_field(sel.response_key, "__typename", "", sel.directives_text, False)
            return
        graph = ctx.group.graph
        if self.resolvable_locally(graph, type_name, sel.name, ctx.provided, ctx.at_entity_root):
            self.add_local(ctx, type_name, sel)
        else:
            self.jump(ctx, type_name, sel)

    def add_local(self, ctx: Ctx, type_name: str, sel: FieldSelection) -> None:
        group = ctx.group
        fig = self.field_in_graph(type_name, sel.name, group.graph)
        if fig is not None and fig.requires is not None and ctx.at_entity_root:
            self.ensure_requires(group, type_name, fig.requires)
        group.variables |= variables_in(sel.arguments) | variables_in(sel.directives)
        fdef = self._field_def(type_name, sel.name)
        type_text = (fig.type_in_graph if fig is not None else None) or str(fdef.type)
        named = get_named_type(fdef.type).name
        named_here = type_text.strip("[]!")
        if sel.selections is not None:
            type_text = type_text.replace(named_here, "*")
        out = ctx.out.add_field(
            sel.response_key,
            sel.name,
            sel.args_text,
            sel.directives_text,
            sel.selections is not None,
            type_text,
        )
        if sel.selections is None or out.children is None:
            return
        if fig is not None and fig.provides is not None:
            provided: Provided | None = _provided_tree(fig.provides)
        else:
            provided = ctx.provided.get(sel.name) if ctx.provided else None
        sub = Ctx(
            group,
            out.children,
            ctx.path + (sel.response_key,) + ("@",) * _list_depth(fdef.type),
            provided,
            False,
            {},
            Up(ctx, type_name, sel, fdef.type),
        )
        if (
            named_here != named
            and self.is_abstract(named)
            and isinstance(self.schema.get_type(named_here), GraphQLObjectType)
        ):
            # The subgraph types the field as one member of the supergraph's union or
            # interface: fragments on the other members cannot be sent to it.
            out.children.add_field("__typename", "__typename", "", "", False)
            named = named_here
        self.plan_selections(sub, named, sel.selections)
        if out.children.is_empty():
            out.children.add_field("__typename", "__typename", "", "", False)

    def jump_targets(
        self, type_name: str, field_name: str
    ) -> list[tuple[str, list[EntityKey], str]]:
        """Subgraphs that resolve the field, their keys, and the type to ask them for."""
        info = self.sg.types.get(type_name)
        if info is None:
            return []
        targets = []
        for graph, fig in self.sg.field_graphs(type_name, field_name).items():
            if fig.external or fig.overridden:
                continue
            keys = [k for k in info.keys.get(graph, []) if k.resolvable]
            if keys:
                targets.append((graph, keys, type_name))
        if targets:
            return targets
        # An @interfaceObject subgraph resolves it through an interface of the type.
        object_type = self.schema.get_type(type_name)
        for interface in getattr(object_type, "interfaces", ()):
            iinfo = self.sg.types.get(interface.name)
            if iinfo is None:
                continue
            for graph in sorted(iinfo.interface_object_graphs):
                ifig = self.field_in_graph(interface.name, field_name, graph)
                if ifig is None or ifig.external or ifig.overridden:
                    continue
                keys = [k for k in iinfo.keys.get(graph, []) if k.resolvable]
                if keys:
                    targets.append((graph, keys, interface.name))
        return targets

    def jump(self, ctx: Ctx, type_name: str, sel: FieldSelection) -> None:
        attempt = (ctx.group.id, type_name, sel.name, ctx.path)
        if attempt in self.jumping:
            # The key that would reach the field needs the field itself.
            raise PlanningError(
                f"cannot plan {type_name}.{sel.name}: every subgraph that resolves it needs "
                f"it in the entity key, and {self.sg.subgraphs[ctx.group.graph].name!r} "
                "does not resolve it."
            )
        self.jumping.add(attempt)
        try:
            self._jump(ctx, type_name, sel)
        finally:
            self.jumping.discard(attempt)

    def _jump(self, ctx: Ctx, type_name: str, sel: FieldSelection) -> None:
        targets = self.jump_targets(type_name, sel.name)
        key_at_hand = any(
            self._key_local(ctx, type_name, k) for _, keys, _ in targets for k in keys
        )
        # Without a key at hand, ask a subgraph for the field through an enclosing entity
        # whose path down to it that subgraph resolves, as Apollo does; through the root
        # only when no key reaches the field at all (the reference gateways refuse to
        # split a shared root field over entities that lack their own keys).
        if not key_at_hand and self.jump_via_parent(ctx, type_name, sel, from_root=not targets):
            return
        if not targets:
            raise PlanningError(
                f"cannot plan {type_name}.{sel.name}: subgraph "
                f"{self.sg.subgraphs[ctx.group.graph].name!r} does not resolve it and no "
                "subgraph that does can be reached through an entity key.",
                suggestion="Check the @key directives of the subgraphs that define this type.",
            )
        origin = ctx
        if ctx.at_entity_root and ctx.group.parent is not None:
            # Fetch it beside this group, from the same parent data, rather than after it.
            parent_ctx = ctx.group.parent_ctx.get(type_name)
            if parent_ctx is not None and any(
                self._key_local(parent_ctx, type_name, key)
                for _, keys, _ in targets
                for key in keys
            ):
                origin = parent_ctx

        def preference(item: tuple[str, list[EntityKey], str]) -> tuple[int, int, int, int]:
            graph, keys, entity_type = item
            fig = self.field_in_graph(entity_type, sel.name, graph)
            return (
                int(any(self._key_local(origin, type_name, k) for k in keys)),
                int((origin.group.id, graph, origin.path) in self.child_index),
                int(fig is None or fig.requires is None),
                self.field_score(graph, entity_type, sel),
            )

        graph, keys, entity_type = max(targets, key=preference)
        key = next((k for k in keys if self._key_local(origin, type_name, k)), keys[0])
        target = self.field_in_graph(entity_type, sel.name, graph)
        requires = (
            (entity_type, convert_selection_set(target.requires, {}))
            if target is not None and target.requires is not None
            else None
        )
        child = self.child_group(origin, graph, type_name, requires)
        self.ensure_representation(child, origin, type_name, key.selection)
        if entity_type != type_name:
            child.sent_typenames[type_name] = entity_type
            child.parent_ctx.setdefault(entity_type, origin)
        child_ctx = Ctx(child, child.out.fragment(entity_type), origin.path, None, True, {})
        self.plan_field(child_ctx, entity_type, sel)

    def jump_via_parent(
        self, ctx: Ctx, type_name: str, sel: FieldSelection, *, from_root: bool
    ) -> bool:
        """Fetch ``sel`` again from the nearest enclosing entity or root field.

        For a field of a value type (or of an entity whose key is not at hand), another
        subgraph may resolve the whole path from an ancestor down to it: that path is
        selected there, from the ancestor's key or from the root, and the results merge.
        """
        graphs = sorted(
            g
            for g, fig in self.sg.field_graphs(type_name, sel.name).items()
            if not fig.external and not fig.overridden and g != ctx.group.graph
        )
        chain: list[Up] = []
        below = ctx
        while below.up is not None and graphs:
            link = below.up
            chain.insert(0, link)
            anchor, anchor_type = link.ctx, link.parent_type
            below = anchor
            types = [u.parent_type for u in chain[1:]] + [type_name]
            for graph in graphs:
                if not all(
                    self._path_step(graph, u, under) for u, under in zip(chain, types, strict=True)
                ):
                    continue
                if not self.resolvable_locally(graph, type_name, sel.name, None, False):
                    continue
                start = self._parent_start(anchor, anchor_type, graph, from_root)
                if start is None:
                    continue
                bottom = self._select_path(start, chain, types, graph)
                self.plan_field(bottom, type_name, sel)
                return True
        return False

    def _path_step(self, graph: str, link: Up, under: str) -> bool:
        if not self.resolvable_locally(graph, link.parent_type, link.sel.name, None, False):
            return False
        named = get_named_type(link.type_).name
        return named == under or under in self.possible_in_graph(named, graph)

    def _parent_start(
        self, anchor: Ctx, anchor_type: str, graph: str, from_root: bool
    ) -> Ctx | None:
        """Where a fetch from ``graph`` starts for a path below ``anchor``, if one can."""
        if (
            anchor.group.parent is None
            and anchor.path == ()
            and anchor_type in {r.type_name for r in self.roots}
        ):
            if not from_root or self.operation.kind != "query":
                return None  # and a mutation's fields must not run twice
            group = next((r for r in self.roots if r.graph == graph), None)
            if group is None:
                group = self.new_group(graph, None, (), anchor_type)
                self.roots.append(group)
            return Ctx(group, group.out, (), None, False, {})
        info = self.sg.types.get(anchor_type)
        if info is None or self.is_abstract(anchor_type):
            return None
        keys = [k for k in info.keys.get(graph, []) if k.resolvable]
        origin = anchor
        if anchor.at_entity_root and anchor.group.parent is not None:
            parent_ctx = anchor.group.parent_ctx.get(anchor_type)
            if parent_ctx is not None and any(
                self._key_local(parent_ctx, anchor_type, k) for k in keys
            ):
                origin = parent_ctx
        key = next((k for k in keys if self._key_local(origin, anchor_type, k)), None)
        if key is None:
            return None
        child = self.child_group(origin, graph, anchor_type)
        self.ensure_representation(child, origin, anchor_type, key.selection)
        return Ctx(child, child.out.fragment(anchor_type), origin.path, None, True, {})

    def _select_path(self, start: Ctx, chain: list[Up], types: list[str], graph: str) -> Ctx:
        """Select the fields of ``chain`` below ``start``; the context at the bottom."""
        ctx = start
        for link, under in zip(chain, types, strict=True):
            sel = link.sel
            fig = self.field_in_graph(link.parent_type, sel.name, graph)
            named = get_named_type(link.type_).name
            type_text = ((fig.type_in_graph if fig else None) or str(link.type_)).replace(
                named, "*"
            )
            ctx.group.variables |= variables_in(sel.arguments) | variables_in(sel.directives)
            out = ctx.out.add_field(
                sel.response_key, sel.name, sel.args_text, sel.directives_text, True, type_text
            )
            assert out.children is not None
            children = out.children
            if named != under:
                children.add_field("__typename", "__typename", "", "", False)
                children = children.fragment(under)
            path = ctx.path + (sel.response_key,) + ("@",) * _list_depth(link.type_)
            ctx = Ctx(
                ctx.group,
                children,
                path,
                None,
                False,
                {},
                Up(ctx, link.parent_type, sel, link.type_),
            )
        return ctx

    def _key_local(self, ctx: Ctx, type_name: str, key: EntityKey) -> bool:
        return self.fieldset_local(
            ctx.group.graph,
            type_name,
            convert_selection_set(key.selection, {}),
            ctx.provided,
            ctx.at_entity_root,
        )

    def ensure_representation(
        self, group: FetchGroup, origin: Ctx, type_name: str, fields: SelectionSetNode
    ) -> None:
        origin.out.add_field("__typename", "__typename", "", "", False)
        projection = group.requires.setdefault(type_name, {})
        projection.setdefault("__typename", ProjectedField("__typename", "__typename"))
        for f in self.plan_fieldset(origin, type_name, fields, group):
            _merge_projection(projection, f)

    def ensure_requires(
        self, group: FetchGroup, type_name: str, requires: SelectionSetNode
    ) -> None:
        group.required.setdefault(type_name, []).append(convert_selection_set(requires, {}))
        # An @interfaceObject field is asked of the interface, but representations are
        # built per runtime type: the required fields go with each type sent as it.
        runtimes = [r for r, sent in group.sent_typenames.items() if sent == type_name]
        for runtime in runtimes:
            self.ensure_representation(group, group.parent_ctx[runtime], runtime, requires)
        if runtimes:
            return
        origin = group.parent_ctx.get(type_name)
        if origin is None:
            raise PlanningError(f"@requires on {type_name} in a group with no parent.")
        self.ensure_representation(group, origin, type_name, requires)

    def plan_fieldset(
        self, ctx: Ctx, type_name: str, fields: SelectionSetNode, dependent: FetchGroup
    ) -> list[ProjectedField]:
        """Plan the fields a representation needs at ``ctx``; ``dependent`` waits for them."""
        selections = self._internal(convert_selection_set(fields, {}), ctx)
        self.touched.append(set())
        self.planning_for.append(dependent.id)
        try:
            self.plan_concrete(
                Ctx(
                    ctx.group,
                    ctx.out,
                    ctx.path,
                    ctx.provided,
                    ctx.at_entity_root,
                    ctx.client_keys,
                    ctx.up,
                ),
                type_name,
                selections,
            )
        finally:
            touched = self.touched.pop()
            self.planning_for.pop()
        touched.discard(dependent.id)
        touched.discard(ctx.group.id)
        dependent.deps |= touched
        return self._projection(selections, type_name)

    def _internal(self, selections: tuple[Selection, ...], ctx: Ctx) -> tuple[Selection, ...]:
        """Alias representation fields whose response key holds something else.

        The client may use the name for another field, or another @requires may need
        the same field with other arguments (``price(currency: "USD")`` beside
        ``price(currency: "EUR")``); each value is fetched under its own key.
        """
        out: list[Selection] = []
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                out.append(sel)
                continue
            alias = self._representation_key(ctx, sel)
            if alias != sel.response_key:
                sel = FieldSelection(
                    response_key=alias,
                    name=sel.name,
                    alias=alias,
                    arguments=sel.arguments,
                    directives=sel.directives,
                    selections=sel.selections,
                    args_text=sel.args_text,
                )
            out.append(sel)
        return tuple(out)

    def _representation_key(self, ctx: Ctx, sel: FieldSelection) -> str:
        slot = self.representation_keys.setdefault((ctx.path, sel.name), {})
        key = slot.get(sel.args_text)
        if key is not None:
            return key
        wanted = (sel.name, sel.args_text)
        used = ctx.client_keys.get(sel.name)
        free = all(
            (f.name, f.args_text) == wanted
            for _, f in _level_fields(ctx.out)
            if f.response_key == sel.name
        )
        taken = set(slot.values())
        if used in (None, wanted) and free and sel.name not in taken:
            key = sel.name
        elif INTERNAL_ALIAS_PREFIX + sel.name not in taken:
            key = INTERNAL_ALIAS_PREFIX + sel.name
        else:
            key = f"{INTERNAL_ALIAS_PREFIX}{sel.name}_{len(slot)}"
        slot[sel.args_text] = key
        return key

    def _runtime_types(self, type_name: str) -> frozenset[str]:
        type_ = self.sg.schema.get_type(type_name)
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            return frozenset(t.name for t in self.sg.schema.get_possible_types(type_))
        return frozenset((type_name,))

    def _projection(
        self,
        selections: tuple[Selection, ...],
        type_name: str,
        condition: str | None = None,
        only_for: frozenset[str] | None = None,
        enclosing: frozenset[str] | None = None,
    ) -> list[ProjectedField]:
        """What to copy into a representation, type conditions resolved to runtime types.

        ``type_name`` is where field definitions are looked up (the innermost type
        condition); ``enclosing`` the runtime types the object may have. A condition
        that holds for all of them is dropped, so ``__typename`` is only read where it
        is fetched: below abstract types.
        """
        if enclosing is None:
            enclosing = self._runtime_types(type_name)
        fields: list[ProjectedField] = []
        for sel in selections:
            if isinstance(sel, FragmentSelection):
                inner_type = sel.type_condition or type_name
                narrowed = self._runtime_types(inner_type)
                if only_for is not None:
                    narrowed &= only_for
                if narrowed >= enclosing:
                    inner_condition, inner_only = condition, only_for
                else:
                    inner_condition, inner_only = inner_type, narrowed
                fields.extend(
                    self._projection(
                        sel.selections, inner_type, inner_condition, inner_only, enclosing
                    )
                )
                continue
            children: tuple[ProjectedField, ...] | None = None
            if sel.selections is not None:
                named = get_named_type(self._field_def(type_name, sel.name).type).name
                inner = self._projection(sel.selections, named)
                if any(c.only_for is not None for c in inner) and not any(
                    c.response_key == "__typename" for c in inner
                ):
                    inner.insert(0, ProjectedField("__typename", "__typename"))
                children = tuple(inner)
            fields.append(ProjectedField(sel.response_key, sel.name, children, condition, only_for))
        return fields

    # -- from groups to a plan tree ---------------------------------------------------

    def build_tree(self) -> PlanNode | None:
        groups = [g for g in self.groups if not g.out.is_empty() or g.parent is None]
        groups = [g for g in groups if not g.out.is_empty()]
        if not groups:
            return None
        by_id = {g.id: g for g in groups}
        children: dict[int, list[FetchGroup]] = {g.id: [] for g in groups}
        ancestors: dict[int, set[int]] = {}
        placed: set[int] = set()
        pending = [g for g in groups if g.parent is not None]
        for root in self.roots:
            if root.id in by_id:
                ancestors[root.id] = set()
                placed.add(root.id)
        tree_ok = True
        while pending and tree_ok:
            progressed = False
            for g in list(pending):
                needs = set(g.deps) | {g.parent.id}  # type: ignore[union-attr]
                if not needs <= placed:
                    continue
                anchor = next(
                    (d for d in needs if needs - {d} <= ancestors[d]),
                    None,
                )
                if anchor is None:
                    tree_ok = False
                    break
                children[anchor].append(g)
                ancestors[g.id] = ancestors[anchor] | {anchor}
                placed.add(g.id)
                pending.remove(g)
                progressed = True
            if not progressed:
                tree_ok = False
        if not tree_ok:
            return self._levels(groups)

        def node(g: FetchGroup) -> PlanNode:
            fetch = self.fetch_node(g)
            kids = [node(c) for c in children[g.id]]
            if not kids:
                return fetch
            rest: PlanNode = kids[0] if len(kids) == 1 else ParallelNode(tuple(kids))
            return _sequence([fetch, rest])

        roots = [node(r) for r in self.roots if r.id in by_id]
        if self.operation.kind == "mutation":
            return roots[0] if len(roots) == 1 else _sequence(roots)
        return roots[0] if len(roots) == 1 else ParallelNode(tuple(roots))

    def _levels(self, groups: list[FetchGroup]) -> PlanNode:
        by_id = {g.id: g for g in groups}
        level: dict[int, int] = {}

        def depth(g: FetchGroup) -> int:
            if g.id not in level:
                needs = set(g.deps) | ({g.parent.id} if g.parent else set())
                level[g.id] = 1 + max((depth(by_id[d]) for d in needs if d in by_id), default=-1)
            return level[g.id]

        stages: dict[int, list[PlanNode]] = {}
        for g in groups:
            stages.setdefault(depth(g), []).append(self.fetch_node(g))
        ordered = [
            nodes[0] if len(nodes) == 1 else ParallelNode(tuple(nodes))
            for _, nodes in sorted(stages.items())
        ]
        return ordered[0] if len(ordered) == 1 else SequenceNode(tuple(ordered))

    def fetch_node(self, group: FetchGroup) -> PlanNode:
        op = self.operation
        _alias_conflicts(group.out, itertools.count())
        renames = tuple(sorted(_renames(group.out, ()), key=lambda r: -len(r.path)))
        body = group.out.render()
        # Only the variables the subgraph operation uses: a field selected twice under
        # different conditions is fetched unconditionally, and a subgraph refuses an
        # operation that declares a variable it never uses.
        mentioned = set(_VARIABLE.findall(body))
        used = [v for v in op.variable_definitions if v in group.variables and v in mentioned]
        definitions = [op.variable_definitions[v] for v in used]
        base = op.name or "Operation"
        service = self.sg.subgraphs[group.graph].name
        safe_service = "".join(c if c.isalnum() else "_" for c in service)
        name = f"{base}__{safe_service}__{group.id}"
        if group.parent is None:
            header = f"{op.kind} {name}" + (f"({','.join(definitions)})" if definitions else "")
            text = header + body
            return FetchNode(
                id=group.id,
                service=service,
                operation=text,
                operation_kind=op.kind,
                variable_usages=tuple(used),
                owed=tuple(group.out.fields),
                renames=renames,
            )
        definitions.insert(0, "$representations:[_Any!]!")
        text = (
            f"query {name}({','.join(definitions)})"
            "{_entities(representations:$representations)" + body + "}"
        )
        requires = tuple(
            RequiresSelection(
                type_name, tuple(fields.values()), group.sent_typenames.get(type_name)
            )
            for type_name, fields in group.requires.items()
        )
        fetch = FetchNode(
            id=group.id,
            service=service,
            operation=text,
            operation_kind="query",
            variable_usages=tuple(used),
            requires=requires,
            renames=renames,
        )
        return FlattenNode(path=group.merge_path, node=fetch)


def _level_fields(out: OutSelection) -> list[tuple[OutSelection, OutField]]:
    """The fields of one selection level, through its fragments at any depth."""
    found = [(out, f) for f in out.fields.values()]
    for sub in out.fragments.values():
        found.extend(_level_fields(sub))
    return found


def _signature(f: OutField) -> tuple[object, ...]:
    if f.children is None:
        return (f.shape,)
    children = sorted(
        (c.renamed_from or c.response_key, _signature(c)) for _, c in _level_fields(f.children)
    )
    return (f.shape, tuple(children))


def _alias_conflicts(out: OutSelection, counter: itertools.count[int]) -> None:
    """Alias fields that share a response key with a differently typed sibling.

    Fields of different types may share a key in a client query when they sit in
    fragments on different object types, but a subgraph only accepts that when the
    types have the same shape, and a field's type can differ by subgraph
    (``join__field(type:)``). Inner levels go first, so an outer field's shape is final.
    """
    level = _level_fields(out)
    for _, f in level:
        if f.children is not None:
            _alias_conflicts(f.children, counter)
    seen: dict[str, tuple[object, ...]] = {}
    for owner, f in level:
        signature = _signature(f)
        first = seen.setdefault(f.response_key, signature)
        if first == signature or f.renamed_from is not None:
            continue
        alias = f"{INTERNAL_ALIAS_PREFIX}{next(counter)}_{f.response_key}"
        del owner.fields[f.response_key]
        f.renamed_from, f.response_key = f.response_key, alias
        owner.fields[alias] = f


def _renames(out: OutSelection, path: ResponsePath) -> list[KeyRename]:
    found: list[KeyRename] = []
    for _, f in _level_fields(out):
        if f.renamed_from is not None:
            found.append(KeyRename(path, f.response_key, f.renamed_from))
        if f.children is not None:
            found.extend(_renames(f.children, (*path, f.response_key)))
    return found


def _merge_projection(into: dict[str, ProjectedField], f: ProjectedField) -> None:
    existing = into.get(f.response_key)
    if existing is None:
        into[f.response_key] = f
        return
    condition, only_for = existing.condition, existing.only_for
    if only_for is not None and f.only_for != only_for:
        # wanted under two conditions: copied wherever either holds
        if f.only_for is None:
            condition, only_for = None, None
        else:
            condition, only_for = f"{condition} | {f.condition}", only_for | f.only_for
    children = existing.children
    if children is not None and f.children is not None:
        merged = {c.response_key: c for c in children}
        for c in f.children:
            _merge_projection(merged, c)
        children = tuple(merged.values())
    into[f.response_key] = ProjectedField(
        f.response_key, existing.name, children, condition, only_for
    )


def _fields_of(selections: tuple[Selection, ...]) -> list[FieldSelection]:
    found: list[FieldSelection] = []
    for sel in selections:
        if isinstance(sel, FragmentSelection):
            found.extend(_fields_of(sel.selections))
        else:
            found.append(sel)
    return found


def _arguments_differ(a: tuple[Selection, ...], b: tuple[Selection, ...]) -> bool:
    """Whether two field sets ask one field with different arguments, at any depth."""
    theirs = _fields_of(b)
    for mine in _fields_of(a):
        for other in theirs:
            if mine.name != other.name:
                continue
            if mine.args_text != other.args_text:
                return True
            if (
                mine.selections is not None
                and other.selections is not None
                and _arguments_differ(mine.selections, other.selections)
            ):
                return True
    return False


def _sequence(nodes: list[PlanNode]) -> PlanNode:
    flat: list[PlanNode] = []
    for n in nodes:
        if isinstance(n, SequenceNode):
            flat.extend(n.nodes)
        else:
            flat.append(n)
    return SequenceNode(tuple(flat))
