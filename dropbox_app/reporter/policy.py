"""What the reporter pages say about the protection policy.

The signed protection policy (issue: policies) will supply these; until it is integrated the
reporter app shows the built-in summary with these default deadlines, in working days, taken
from common practice in Indonesian inspectorates (docs in ../shared/reference/indonesia.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deadlines:
    first_response: int = 3   # a first answer or question from a verifier
    decision: int = 14        # the decision on how the report will be followed up
    completion: int = 60      # the follow-up finished (longer for investigations)


def deadlines(request: Any) -> Deadlines:
    return request.registry.get("peluit.deadlines") or Deadlines()


def signed_policy(request: Any) -> Any:
    """The signed policy document to show on the landing page, or None for the built-in
    summary. The policies part plugs in here (``registry['peluit.policy']``)."""
    provider = request.registry.get("peluit.policy")
    return provider(request) if provider else None
