"""Tonle's Apollo Federation v2 gateway: supergraph → API schema → plan → execution → response."""

from __future__ import annotations

from gateway.api_schema import build_api_schema
from gateway.app import create_app
from gateway.errors import GatewayError, PlanningError, SupergraphError
from gateway.executor import SubgraphFetchError, Transport, execute_plan
from gateway.operation import PreparedOperation, prepare_operation
from gateway.planner import QueryPlanner
from gateway.query_plan import (
    FetchNode,
    FlattenNode,
    ParallelNode,
    QueryPlan,
    SequenceNode,
    print_plan,
)
from gateway.runtime import Gateway, RequestError
from gateway.settings import GatewaySettings
from gateway.supergraph import Supergraph, load_supergraph
from gateway.transport import AiohttpTransport

__all__ = [
    "AiohttpTransport",
    "FetchNode",
    "FlattenNode",
    "Gateway",
    "GatewayError",
    "GatewaySettings",
    "ParallelNode",
    "PlanningError",
    "PreparedOperation",
    "QueryPlan",
    "QueryPlanner",
    "RequestError",
    "SequenceNode",
    "SubgraphFetchError",
    "Supergraph",
    "SupergraphError",
    "Transport",
    "build_api_schema",
    "create_app",
    "execute_plan",
    "load_supergraph",
    "prepare_operation",
    "print_plan",
]
