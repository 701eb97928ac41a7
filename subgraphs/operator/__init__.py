"""The shared operator connector: one client, configured per operator by settings."""

from __future__ import annotations

from subgraphs.operator.app import (
    OperatorCall,
    OperatorSubgraph,
    create_operator_app,
    load_each,
    operator_loader,
)
from subgraphs.operator.breaker import BreakerState, CircuitBreaker
from subgraphs.operator.cache import TtlCache
from subgraphs.operator.client import OperatorClient
from subgraphs.operator.errors import (
    OPERATOR_TIMEOUT,
    OPERATOR_UNAVAILABLE,
    OperatorError,
    SettingsError,
)
from subgraphs.operator.schema import OperatorSchema
from subgraphs.operator.settings import OperatorSettings
from subgraphs.operator.xroad import XRoad

__all__ = [
    "OPERATOR_TIMEOUT",
    "OPERATOR_UNAVAILABLE",
    "BreakerState",
    "CircuitBreaker",
    "OperatorCall",
    "OperatorClient",
    "OperatorError",
    "OperatorSchema",
    "OperatorSettings",
    "OperatorSubgraph",
    "SettingsError",
    "TtlCache",
    "XRoad",
    "create_operator_app",
    "load_each",
    "operator_loader",
]
