"""The identity subgraph's schema: the ``Query`` and ``Mutation`` roots and the entities.

Queries read the registry (by SPID, Khmer ID, name and birth date, area, household);
mutations register people and decide review cases, merges and unmerges. The parts live
in modules of their own: ``context`` (sessions and loaders), ``types`` (``Person``,
``Household``, places, pages), ``registration`` (inputs, outcomes, review cases),
``query`` and ``mutation``.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from subgraphs.entities import CheckedEntities
from subgraphs.identity.errors import RegistryErrors, log_unexpected
from subgraphs.identity.hygiene import CleanText
from subgraphs.identity.mutation import Mutation
from subgraphs.identity.query import Query
from subgraphs.identity.types import Household, Person
from subgraphs.scalars import SCALAR_OVERRIDES

# Every root field, including any added later: no argument reaches the registry unchecked.
for _root in (Query, Mutation):
    for _field in get_object_definition(_root, strict=True).fields:
        _field.extensions.append(CleanText())


class IdentitySchema(CheckedEntities):
    """The federation schema, logging only faults of ours and never an error's message.

    Malformed ``_entities`` representations are refused one by one (``CheckedEntities``);
    dates are read in the registry's words (``subgraphs.scalars``).
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


schema = IdentitySchema(
    query=Query,
    mutation=Mutation,
    types=[Person, Household],
    extensions=[RegistryErrors],
    scalar_overrides=SCALAR_OVERRIDES,
)
