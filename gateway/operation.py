"""Client operations reduced to what planning and shaping need.

``Selection`` trees are the client's selection sets with fragment spreads resolved
into inline fragments, so later stages never look fragments up by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    print_ast,
)
from graphql.language import Visitor, visit


@dataclass(frozen=True)
class FieldSelection:
    """A field as the client selected it."""

    response_key: str
    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...]
    directives: tuple[DirectiveNode, ...]
    selections: tuple[Selection, ...] | None
    args_text: str = ""
    directives_text: str = ""


@dataclass(frozen=True)
class FragmentSelection:
    """An inline fragment (or a resolved fragment spread) with its type condition."""

    type_condition: str | None
    directives: tuple[DirectiveNode, ...]
    selections: tuple[Selection, ...]
    directives_text: str = ""


Selection = FieldSelection | FragmentSelection

CONDITION_DIRECTIVES = ("skip", "include")


@dataclass
class PreparedOperation:
    """One operation of a document: its kind, variables and resolved selections."""

    name: str | None
    kind: str
    definition: OperationDefinitionNode
    selections: tuple[Selection, ...]
    variable_definitions: dict[str, str] = field(default_factory=dict)
    has_conditions: bool = False


def _args_text(arguments: tuple[ArgumentNode, ...]) -> str:
    if not arguments:
        return ""
    return "(" + ", ".join(print_ast(a) for a in arguments) + ")"


def _directives_text(directives: tuple[DirectiveNode, ...]) -> str:
    return "".join(" " + print_ast(d) for d in directives if d.name.value in CONDITION_DIRECTIVES)


def convert_selection_set(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> tuple[Selection, ...]:
    """Resolve fragment spreads; validation has already ruled out cycles and unknown names."""
    out: list[Selection] = []
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            arguments = tuple(node.arguments or ())
            directives = tuple(node.directives or ())
            out.append(
                FieldSelection(
                    response_key=node.alias.value if node.alias else node.name.value,
                    name=node.name.value,
                    alias=node.alias.value if node.alias else None,
                    arguments=arguments,
                    directives=directives,
                    selections=convert_selection_set(node.selection_set, fragments, seen)
                    if node.selection_set
                    else None,
                    args_text=_args_text(arguments),
                    directives_text=_directives_text(directives),
                )
            )
        elif isinstance(node, InlineFragmentNode):
            directives = tuple(node.directives or ())
            out.append(
                FragmentSelection(
                    type_condition=node.type_condition.name.value if node.type_condition else None,
                    directives=directives,
                    selections=convert_selection_set(node.selection_set, fragments, seen),
                    directives_text=_directives_text(directives),
                )
            )
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            definition = fragments[name]
            if name in seen:
                continue
            directives = tuple(node.directives or ())
            out.append(
                FragmentSelection(
                    type_condition=definition.type_condition.name.value,
                    directives=directives,
                    selections=convert_selection_set(
                        definition.selection_set, fragments, seen | {name}
                    ),
                    directives_text=_directives_text(directives),
                )
            )
    return tuple(out)


class _ConditionFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value in CONDITION_DIRECTIVES:
            self.found = True


def prepare_operation(
    document: DocumentNode, operation: OperationDefinitionNode
) -> PreparedOperation:
    """Resolve an operation's fragments and note its variable types."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    finder = _ConditionFinder()
    visit(document, finder)
    return PreparedOperation(
        name=operation.name.value if operation.name else None,
        kind=operation.operation.value,
        definition=operation,
        selections=convert_selection_set(operation.selection_set, fragments),
        variable_definitions={
            v.variable.name.value: print_ast(v) for v in operation.variable_definitions or ()
        },
        has_conditions=finder.found,
    )


def variables_in(nodes: tuple[ArgumentNode, ...] | tuple[DirectiveNode, ...]) -> set[str]:
    """Names of the variables that arguments or directives use."""
    names: set[str] = set()

    class Finder(Visitor):
        def enter_variable(self, node: VariableNode, *_: object) -> None:
            names.add(node.name.value)

    for node in nodes:
        visit(node, Finder())
    return names


INTROSPECTION_FIELDS_LOCAL = frozenset({"__schema", "__type"})
