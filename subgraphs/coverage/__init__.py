"""The coverage subgraph: ``Query.coverage``, counted through the gateway as the partner."""

from subgraphs.coverage.app import GATEWAY_URL_ENV, PORT, create_app
from subgraphs.coverage.schema import schema

__all__ = ["GATEWAY_URL_ENV", "PORT", "create_app", "schema"]
