"""The in-memory list catalog against a brute-force filter over the same rows."""

import datetime as dt
import itertools

from workbench.cases.catalog import CaseCatalog

STATES = ("intake", "review", "closed", "investigation")
CATS = ("corruption", "pungli", None)
CHANNELS = ("web", "letter", "email")


def rows(n):
    base = dt.date(2026, 1, 1)
    for i in range(1, n + 1):
        received = base + dt.timedelta(days=(i * 7919) % 300)  # not in id order
        yield (i, received, STATES[i % 4], CATS[i % 3], CHANNELS[(i // 3) % 3],
               received + dt.timedelta(days=100))


def brute(data, state="", category="", channel="", overdue=None, between=None, matches=None):
    out = []
    for cid, received, st, cat, ch, due in data:
        if (state == "open" and st == "closed") or (state not in ("", "open") and st != state):
            continue
        if (category and cat != category) or (channel and ch != channel):
            continue
        if (overdue or between) and st == "closed":
            continue
        if (overdue and not due < overdue) or (between and not between[0] <= due <= between[1]):
            continue
        if matches is not None and cid not in matches:
            continue
        out.append((received, cid))
    return [cid for _, cid in sorted(out, reverse=True)]


def test_select_matches_brute_force():
    data = list(rows(700))
    cat = CaseCatalog()
    for r in data[:300]:
        cat._put(*r)                      # one by one (insort)
    cat._keys = sorted(cat._keys)
    for r in data[300:]:
        cat._put(*r)
    # a change of state and category of an existing case
    changed = (5, data[4][1], "closed", "pungli", data[4][4], data[4][5])
    cat._put(*changed)
    data[4] = changed
    matches = set(range(1, 700, 3))
    cut = dt.date(2026, 6, 1)
    for state, category, channel, deadline, m in itertools.product(
            ("", "open", "review", "closed"), ("", "pungli"), ("", "email"),
            ("", "overdue", "soon"), (None, matches)):
        kw = dict(state=state, category=category, channel=channel, matches=m)
        if deadline == "overdue":
            kw["overdue_before"] = cut
        if deadline == "soon":
            kw["due_between"] = (cut, cut + dt.timedelta(days=30))
        want = brute(data, state, category, channel, kw.get("overdue_before"),
                     kw.get("due_between"), m)
        ids, total = cat.select(**kw, offset=10, limit=25)
        assert total == len(want) and ids == want[10:35], kw
    assert cat.select()[1] == 700 and cat.select(limit=3)[0] == brute(data)[:3]
