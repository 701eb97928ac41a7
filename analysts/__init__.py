"""Tools for government analysts: coverage reports and exports fetched live through the
gateway under the analyst's own agreement, published only as aggregates or the analyst's own
files."""

from analysts.suppression import HIDDEN, THRESHOLD, CountTable, PublishedTable, suppress

__all__ = ["HIDDEN", "THRESHOLD", "CountTable", "PublishedTable", "suppress"]
