"""The NSSF sandbox: the National Social Security Fund's system, simulated."""

from __future__ import annotations

from sandbox.nssf.app import NSSF, create_app, seed
from sandbox.nssf.records import NssfMember, nssf_members

__all__ = ["NSSF", "NssfMember", "create_app", "nssf_members", "seed"]
