"""The case workflow of an inspectorate, as plain data: states, the lead's decisions, outcomes,
channels, the coarse status a reporter sees, and who may do what.

The steps follow the reference process (shared/reference/indonesia.md)::

    intake ──start review──▶ review ──submit review──▶ decision ──lead decides──▶
        clarify            → verification ──verification done──▶ decision (the lead decides again)
        forward            → forwarded ──close──▶ closed
        adtt/investigation → investigation ──close with an outcome──▶ closed
        not_processed, archived → closed
    any open state ──duplicate of an earlier case──▶ closed (outcome duplicate, linked)
    closed ──reopen (lead, with reason)──▶ review

The reporter sees only the coarse status (docs/engineering.md): received until the lead's
decision, then verification / forwarded / investigation ("under examination": an ADTT audit or an
investigation), and when closed a status that says how it ended without saying what was found:
finished (examined here), forwarded (the matter continues with the competent authority),
duplicate (handled under another report), archived (examined again if evidence comes) or
not_processed (not followed up by the inspectorate). "Finished" is never shown for a matter that
may still go on elsewhere. Never the findings, never the decision's reason."""

from __future__ import annotations

from enum import StrEnum

from workbench.i18n import N_


class Role(StrEnum):
    AUDITOR = "auditor"
    LEAD = "lead"
    COMPLIANCE = "compliance"


class Permission(StrEnum):
    LIST = "cases.list"              # case numbers, statuses, deadlines: no content
    READ = "cases.read"              # open a case: reporter content, review, thread
    INTAKE = "cases.intake"
    WORK = "cases.work"              # review, verification questions, notes, duplicates, files
    DECIDE = "cases.decide"          # the lead's decision, closing, reopening
    FORWARD = "cases.forward"        # seal a package to an outside agency
    AGENCIES = "cases.agencies"      # enrol agency keys
    STATISTICS = "cases.statistics"  # aggregate export for the compliance officer
    RETALIATION = "cases.retaliation"  # record that a reported retaliation was answered


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AUDITOR: frozenset({Permission.LIST, Permission.READ, Permission.INTAKE,
                             Permission.WORK, Permission.FORWARD}),
    Role.LEAD: frozenset(Permission),
    # The compliance officer checks deadlines and statistics; never a complaint's content. They
    # monitor the retaliation deadline but cannot answer a reporter, so recording a retaliation
    # report as handled is the lead's, after answering it (policy 1.1 §4, issue 19).
    Role.COMPLIANCE: frozenset({Permission.LIST, Permission.STATISTICS}),
}


def allowed(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


class State(StrEnum):
    INTAKE = "intake"
    REVIEW = "review"
    DECISION = "decision"            # reviewed, waiting for the lead
    VERIFICATION = "verification"
    FORWARDED = "forwarded"
    INVESTIGATION = "investigation"
    CLOSED = "closed"


OPEN_STATES = frozenset(State) - {State.CLOSED}


class Decision(StrEnum):
    CLARIFY = "clarify"                  # klarifikasi/konfirmasi with the reporter
    NOT_PROCESSED = "not_processed"      # illogical, normatively impossible, before a court
    ARCHIVED = "archived"                # archived for lack of evidence
    FORWARD = "forward"                  # outside authority: a unit or an outside agency
    ADTT = "adtt"                        # audit with a specific purpose
    INVESTIGATION = "investigation"      # investigative audit


DECISION_STATE: dict[Decision, State] = {
    Decision.CLARIFY: State.VERIFICATION,
    Decision.NOT_PROCESSED: State.CLOSED,
    Decision.ARCHIVED: State.CLOSED,
    Decision.FORWARD: State.FORWARDED,
    Decision.ADTT: State.INVESTIGATION,
    Decision.INVESTIGATION: State.INVESTIGATION,
}


class Outcome(StrEnum):
    SUBSTANTIATED = "substantiated"          # proven, recommendations issued
    NOT_SUBSTANTIATED = "not_substantiated"
    ARCHIVED = "archived"                    # no evidence / not valid
    NOT_PROCESSED = "not_processed"
    FORWARDED = "forwarded"                  # handled by another authority
    DUPLICATE = "duplicate"                  # handled under an earlier case


DECISION_OUTCOME = {Decision.NOT_PROCESSED: Outcome.NOT_PROCESSED,
                    Decision.ARCHIVED: Outcome.ARCHIVED}


class Channel(StrEnum):
    WEB = "web"                  # imported from the drop
    LETTER = "letter"
    COPY = "copy"                # tembusan: a copy of a letter addressed elsewhere
    EMAIL = "email"
    WALK_IN = "walk_in"
    PHONE = "phone"              # phone or SMS
    LAPOR = "lapor"              # SP4N-LAPOR!
    SOCIAL = "social_media"


OFFLINE_CHANNELS = tuple(c for c in Channel if c is not Channel.WEB)


class Coarse(StrEnum):
    """The statuses the reporter may see (docs/engineering.md)."""

    RECEIVED = "received"
    VERIFICATION = "verification"
    FORWARDED = "forwarded"
    INVESTIGATION = "investigation"
    FINISHED = "finished"
    DUPLICATE = "duplicate"
    ARCHIVED = "archived"
    NOT_PROCESSED = "not_processed"


COARSE = {
    State.INTAKE: Coarse.RECEIVED, State.REVIEW: Coarse.RECEIVED, State.DECISION: Coarse.RECEIVED,
    State.VERIFICATION: Coarse.VERIFICATION, State.FORWARDED: Coarse.FORWARDED,
    State.INVESTIGATION: Coarse.INVESTIGATION, State.CLOSED: Coarse.FINISHED,
}


# A closed case's coarse status by its outcome (the others read "finished").
CLOSED_COARSE = {
    "forwarded": Coarse.FORWARDED, "duplicate": Coarse.DUPLICATE,
    "archived": Coarse.ARCHIVED, "not_processed": Coarse.NOT_PROCESSED,
}
CLOSED_COARSE_VALUES = frozenset({Coarse.FINISHED, *CLOSED_COARSE.values()}) - {Coarse.FORWARDED}


def coarse_of(state: State, outcome: str | None) -> Coarse:
    """What the reporter sees for a case in ``state`` closed with ``outcome``."""
    if state is State.CLOSED:
        return CLOSED_COARSE.get(outcome or "", Coarse.FINISHED)
    return COARSE[state]


class Action(StrEnum):
    START_REVIEW = "start_review"
    SUBMIT_REVIEW = "submit_review"
    DECIDE = "decide"
    VERIFICATION_DONE = "verification_done"
    CLOSE = "close"
    MARK_DUPLICATE = "mark_duplicate"
    REOPEN = "reopen"


# (action, from states, the permission it needs)
TRANSITIONS: dict[Action, tuple[frozenset[State], Permission]] = {
    Action.START_REVIEW: (frozenset({State.INTAKE}), Permission.WORK),
    Action.SUBMIT_REVIEW: (frozenset({State.INTAKE, State.REVIEW}), Permission.WORK),
    Action.DECIDE: (frozenset({State.DECISION}), Permission.DECIDE),
    Action.VERIFICATION_DONE: (frozenset({State.VERIFICATION}), Permission.WORK),
    Action.CLOSE: (frozenset({State.FORWARDED, State.INVESTIGATION}), Permission.DECIDE),
    Action.MARK_DUPLICATE: (OPEN_STATES, Permission.WORK),
    Action.REOPEN: (frozenset({State.CLOSED}), Permission.DECIDE),
}


class WorkflowError(Exception):
    """A step that the case's state or the user's role does not allow. ``code`` is stable and
    the web layer turns it into a translated message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Forbidden(WorkflowError):
    def __init__(self, permission: Permission):
        super().__init__("forbidden", f"this needs the permission {permission.value}")
        self.permission = permission


def require(role: str, permission: Permission) -> None:
    if not allowed(role, permission):
        raise Forbidden(permission)


def check_transition(action: Action, state: str, role: str) -> None:
    states, permission = TRANSITIONS[action]
    require(role, permission)
    if State(state) not in states:
        raise WorkflowError("bad_state", f"cannot {action.value} a case in state {state}")


# Complaint categories: the general complaint codes of PER/05/M.PAN/4/2009 plus the WBS
# categories (gratification, pungli). Keys are tokens (they reach statistics); labels are msgids.
# Deployments may replace the table (``[cases] categories`` in the policy file).
DEFAULT_CATEGORIES: dict[str, str] = {
    "abuse_of_authority": N_("01 Abuse of authority"),
    "public_service": N_("02 Public service"),
    "corruption": N_("03 Corruption"),
    "pungli": N_("03 Illegal levies (pungli)"),
    "gratification": N_("03 Gratification"),
    "conflict_of_interest": N_("01 Conflict of interest"),
    "personnel": N_("04 Civil service, ASN discipline"),
    "ethics": N_("04 Code-of-ethics breach"),
    "land": N_("05 Land"),
    "law_human_rights": N_("06 Law and human rights"),
    "national_vigilance": N_("07 National vigilance"),
    "administration": N_("08 Administration"),
    "environment": N_("09 Environment"),
    "general": N_("10 General"),
}

# The reporter form's categories (docs/engineering.md [reporter] categories).
FORM_CATEGORY_CODES = {
    "abuse_of_authority": "abuse_of_authority", "public_service": "public_service",
    "corruption": "corruption", "pungli": "pungli", "discipline": "personnel",
    "gratification": "gratification", "other": "general",
    "conflict_of_interest": "conflict_of_interest", "ethics": "ethics",
}

FOUR_W_ONE_H = ("what", "who", "where", "when", "how")

# Msgids templates translate from data: 4W+1H items and thread entry kinds.
DYNAMIC = (N_("what"), N_("who"), N_("where"), N_("when"), N_("how"), N_("note"),
           N_("contact"), N_("finding"), N_("reopen"), N_("answer"), N_("ocr"))
