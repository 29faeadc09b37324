"""The global budget for failed codename logins: guessing at full rate is slowed to the budget's
pace, a real reporter still logs in during the attack, and an admin sees how many logins failed
each day (gateway admin page, then the admin log once the day is over) without a codename or a
hash of one anywhere."""

from __future__ import annotations

import json
import threading
import time

import webtest
from sqlalchemy import select

from crypto import codename as codenames
from dropbox_app.configurator import service
from dropbox_app.gateway import adminlog
from dropbox_app.loginbudget import (
    FAILURES_PER_MINUTE,
    LOG_ACTION,
    PACE_PER_SECOND,
    LoginBudget,
)
from dropbox_app.models import LoginFailureDay
from dropbox_app.throttle import Busy
from tests.fixtures.drop import Browser, csrf
from tests.fixtures.gateway import create_account
from tests.fixtures.gateway import login as gateway_login

ATTACKERS = 32
DAY = 86400


def _attack(drop, stop: threading.Event, statuses: list[int], guesses: list[str]) -> None:
    client = webtest.TestApp(drop.reporter_wsgi)
    token = csrf(client)
    while not stop.is_set():
        guess = str(codenames.generate("id"))
        guesses.append(guess)
        res = client.post("/login", {"csrf_token": token, "codename": guess, "website": ""},
                          expect_errors=True)
        statuses.append(res.status_int)


def test_a_reporter_logs_in_during_a_full_rate_guessing_attack(drop):
    reporter = Browser(drop.reporter())
    codename = reporter.new_report()
    reporter.logout()
    stop, statuses, guesses = threading.Event(), [], []
    threads = [threading.Thread(target=_attack, args=(drop, stop, statuses, guesses))
               for _ in range(ATTACKERS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        time.sleep(3)  # the attack is under way: the budget is spent, logins are paced
        budget = service(drop.reporter_wsgi, LoginBudget)
        assert budget.spent()
        real = Browser(drop.reporter())
        csrf(real.app)
        t0 = time.monotonic()
        res = real.login(codename, status="*")
        took = time.monotonic() - t0
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    attack_seconds = time.monotonic() - started
    assert res.status_int == 303, res.status
    assert res.headers["Location"] == "/followup"
    assert took < 30, took
    assert real.app.get("/followup").status_int == 200
    # The guesses the app answered: the free minute's budget (and the requests already past
    # the check when it ran out), then the pace. Without a budget it is hundreds a second.
    failed = statuses.count(400)
    assert set(statuses) <= {400, 503}, set(statuses)
    assert failed <= FAILURES_PER_MINUTE + ATTACKERS + PACE_PER_SECOND * attack_seconds + 2, (
        failed, attack_seconds)
    print(f"reporter login {took:.1f} s during the attack; {failed} guesses answered in "
          f"{attack_seconds:.1f} s")

    # The admin sees today's count on the gateway...
    admin = create_account(drop.dep, "admin", role="admin")
    gateway_login(drop.dep, admin)
    page = drop.dep.app.get("/admin")
    today = drop.clock.day()
    assert page.status_int == 200, (page.status, page.headers.get("Location"))
    table = page.html.find(id="login-failures")
    assert table is not None
    row = next(tr for tr in table.find_all("tr") if tr.find("td") and tr.td.text == today)
    assert row.find_all("td")[1].text.strip() == str(failed)
    # ... and once the day is over, the admin log has it: a day and a number, nothing else.
    drop.clock.advance(DAY)
    gateway_login(drop.dep, admin)  # yesterday's session has ended
    assert drop.dep.app.get("/admin").status_int == 200
    with drop.dep.db() as db:
        entries = [e for e in adminlog.newest(db) if e.action == LOG_ACTION]
        assert [e.details for e in entries] == [{"day": today, "failed_logins": failed}]
        assert db.scalar(select(LoginFailureDay.logged).where(LoginFailureDay.day == today))
        blob = json.dumps([e.to_dict() for e in adminlog.newest(db)])
    for guess in guesses[:50]:
        assert guess not in blob
    # A second look the next day writes nothing more.
    assert drop.dep.app.get("/admin").status_int == 200
    with drop.dep.db() as db:
        assert len([e for e in adminlog.newest(db) if e.action == LOG_ACTION]) == 1


class _Time:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)


def test_the_budget_paces_in_arrival_order_and_never_locks():
    clock = _Time()
    budget = LoginBudget(per_minute=3, pace=2.0, max_wait=5.0, monotonic=clock.now,
                         sleep=clock.sleep)
    for _ in range(3):
        assert budget.wait_turn() == 0.0  # within the budget: no wait at all
        budget.failed()
    assert budget.spent()
    # Spent: each login gets the next half-second turn, in the order they came.
    waits = [budget.wait_turn() for _ in range(11)]
    assert waits == [0.5 * i for i in range(11)]
    # A turn more than max_wait away: "busy, try again" at once (no sleep, no queue).
    slept = len(clock.slept)
    try:
        budget.wait_turn()
        raise AssertionError("expected Busy")
    except Busy:
        pass
    assert len(clock.slept) == slept
    # A minute without failures: the budget is back, nobody waits.
    clock.t += 61
    assert not budget.spent()
    assert budget.wait_turn() == 0.0
