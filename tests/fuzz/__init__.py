"""Fuzzing the gateway, the subgraphs and the sandboxes with hypothesis (docs/development.md)."""
