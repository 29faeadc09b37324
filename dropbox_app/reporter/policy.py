"""What the reporter pages say about the protection policy.

The signed protection policy in force supplies these. Without one, the reporter app shows the
built-in summary with the same defaults the policy and the workbench calendar use
(``policies.calendar.DeadlinePolicy``), so a reporter is never promised one thing on this page
and measured against another on the workbench."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from policies.calendar import DeadlinePolicy

_DEFAULT = DeadlinePolicy()


@dataclass(frozen=True)
class Deadlines:
    # policies.clocks: each is met by exactly the event the workbench records for it.
    first_response: int = _DEFAULT.acknowledge_days  # the standard acknowledgment message
    decision: int = _DEFAULT.verify_days  # reviewed, and the lead's decision on the next step
    completion: int = _DEFAULT.complete_days  # the follow-up finished (longer for investigations)
    retaliation: int = _DEFAULT.retaliation_days  # the team's first answer to a retaliation


@dataclass(frozen=True)
class Landing:
    """The service the landing pages read: ``provider(request)`` gives the signed policy
    document to show (the policies part plugs in here), ``deadlines`` its working-day promises
    (None: the built-in defaults)."""
    provider: Callable[[Any], Any] | None = None
    deadlines: Deadlines | None = None
    #: ``escrow(today)``: the signed policy's custodian cards and opening rule, or None (no
    #: identity escrow offered).
    escrow: Callable[[Any], Any] | None = None
    #: ``conflict(today)``: the key ids of the conflict-group members the signed policy names
    #: (``[conflict]``), or None (none: no report is routed to the conflict group, and the
    #: report form does not ask whether a report concerns the inspectorate).
    conflict: Callable[[Any], Any] | None = None


def deadlines(request: Any) -> Deadlines:
    return request.find_service(Landing).deadlines or Deadlines()


def signed_policy(request: Any) -> Any:
    """The signed policy document to show on the landing page, or None for the built-in
    summary."""
    provider = request.find_service(Landing).provider
    return provider(request) if provider else None


def escrow_terms(request: Any) -> Any:
    """(custodian cards, crypto.escrow.Rule) of the signed policy in force, or None."""
    source = request.find_service(Landing).escrow
    return source(request.clock.today()) if source else None


def conflict_pins(request: Any) -> frozenset[str] | None:
    """The conflict-group cards the signed policy in force names (dropbox_app.auditors.Pinned):
    only those, if enrolled and active, read reports about the inspectorate itself."""
    source = request.find_service(Landing).conflict
    return source(request.clock.today()) if source else None
