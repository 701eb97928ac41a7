"""The identity subgraph's schema: the ``Query`` and ``Mutation`` roots and the entities.

Queries read the registry (by SPID, Khmer ID, name and birth date, area, household);
mutations register people and decide review cases, merges and unmerges. The parts live
in modules of their own: ``context`` (sessions and loaders), ``types`` (``Person``,
``Household``, places, pages), ``registration`` (inputs, outcomes, review cases),
``query`` and ``mutation``.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from subgraphs.identity.errors import RegistryErrors, log_unexpected
from subgraphs.identity.mutation import Mutation
from subgraphs.identity.query import Query
from subgraphs.identity.types import Household, Person


class IdentitySchema(strawberry.federation.Schema):
    """The federation schema, logging only faults of ours and never an error's message."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


schema = IdentitySchema(
    query=Query, mutation=Mutation, types=[Person, Household], extensions=[RegistryErrors]
)
