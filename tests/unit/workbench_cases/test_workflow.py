"""The case workflow's tables: who may do what, from which state, and what the reporter sees."""

import pytest

from workbench.cases.workflow import (
    CLOSED_COARSE_VALUES,
    COARSE,
    DECISION_OUTCOME,
    DECISION_STATE,
    DEFAULT_CATEGORIES,
    FORM_CATEGORY_CODES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    Coarse,
    Decision,
    Forbidden,
    Outcome,
    Permission,
    Role,
    State,
    WorkflowError,
    allowed,
    check_transition,
    coarse_of,
    require,
)


def test_the_compliance_officer_never_opens_content_nor_acts_on_a_case():
    for permission in (Permission.READ, Permission.INTAKE, Permission.WORK, Permission.DECIDE,
                       Permission.FORWARD, Permission.AGENCIES, Permission.RETALIATION):
        assert not allowed(Role.COMPLIANCE, permission), permission
    assert allowed(Role.COMPLIANCE, Permission.LIST)
    assert allowed(Role.COMPLIANCE, Permission.STATISTICS)


def test_only_a_lead_decides_closes_reopens_and_enrols_agencies():
    for permission in (Permission.DECIDE, Permission.AGENCIES, Permission.RETALIATION):
        assert [r for r in Role if allowed(r, permission)] == [Role.LEAD], permission


def test_an_unknown_role_may_do_nothing():
    assert not any(allowed("admin", p) for p in Permission)
    assert not any(allowed("", p) for p in Permission)
    with pytest.raises(Forbidden) as exc:
        require("admin", Permission.LIST)
    assert exc.value.code == "forbidden"


def test_a_step_needs_its_state_and_its_permission():
    for action, (states, permission) in TRANSITIONS.items():
        lead = next(r for r in Role if allowed(r, permission))
        for state in State:
            if state in states:
                check_transition(action, state.value, lead)
            else:
                with pytest.raises(WorkflowError) as exc:
                    check_transition(action, state.value, lead)
                assert exc.value.code == "bad_state", (action, state)
        for role in Role:
            if not allowed(role, permission):
                with pytest.raises(Forbidden):
                    check_transition(action, next(iter(states)).value, role)


def test_an_auditor_cannot_decide_nor_close_nor_reopen():
    for action, state in ((Action.DECIDE, State.DECISION), (Action.CLOSE, State.INVESTIGATION),
                          (Action.REOPEN, State.CLOSED)):
        with pytest.raises(Forbidden):
            check_transition(action, state.value, Role.AUDITOR)


def test_a_closed_case_is_never_marked_duplicate_again_and_nothing_leaves_closed_but_reopen():
    leaving_closed = [a for a, (states, _) in TRANSITIONS.items() if State.CLOSED in states]
    assert leaving_closed == [Action.REOPEN]
    assert State.CLOSED not in OPEN_STATES


def test_every_decision_leads_somewhere_and_closing_ones_carry_an_outcome():
    assert set(DECISION_STATE) == set(Decision)
    for decision, state in DECISION_STATE.items():
        if state is State.CLOSED:
            assert decision in DECISION_OUTCOME
    assert set(DECISION_OUTCOME.values()) <= set(Outcome)


def test_what_the_reporter_sees_never_names_an_internal_step():
    assert set(COARSE) == set(State)
    # Intake, review and the lead's pending decision all read "received" to the reporter.
    for state in (State.INTAKE, State.REVIEW, State.DECISION):
        assert coarse_of(state, None) is Coarse.RECEIVED
    assert coarse_of(State.CLOSED, "substantiated") is Coarse.FINISHED
    assert coarse_of(State.CLOSED, None) is Coarse.FINISHED
    assert coarse_of(State.CLOSED, "duplicate") is Coarse.DUPLICATE
    assert coarse_of(State.CLOSED, "archived") is Coarse.ARCHIVED
    assert coarse_of(State.CLOSED, "not_processed") is Coarse.NOT_PROCESSED
    # A forwarded case may come back: its coarse status is not one of the "closed" ones.
    assert coarse_of(State.CLOSED, "forwarded") is Coarse.FORWARDED
    assert Coarse.FORWARDED not in CLOSED_COARSE_VALUES


def test_every_form_category_maps_to_a_case_category():
    assert set(FORM_CATEGORY_CODES.values()) <= set(DEFAULT_CATEGORIES)
