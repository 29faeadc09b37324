"""deploy/install.sh in full system mode, on Debian 12 booted under systemd (systemd-nspawn).

Run alone with `pytest -m nspawn` (as root, with debootstrap and systemd-nspawn from
tests/install-deps.sh; wrap it in `flock /tmp/peluit-heavy.lock` on a shared machine). The
Debian image and the wheels are cached between runs (tests/deploy/nspawn.py). The figures
(boot, install, each unit's `systemd-analyze security` exposure) are printed with -s.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import pytest

from tests.deploy import nspawn

pytestmark = [pytest.mark.nspawn, pytest.mark.slow, pytest.mark.timeout(1800)]

UNITS = ("peluit-reporter.service", "peluit-gateway.service")
SECRETS = ("/etc/peluit/peluit.toml", "/var/lib/peluit/secrets/*",
           "/var/lib/tor/peluit-reporter/hs_ed25519_secret_key",
           "/var/lib/tor/peluit-gateway/hs_ed25519_secret_key",
           "/var/lib/tor/peluit-gateway/authorized_clients/_sealed.auth")
# A documentation network (RFC 5737) routed out of a dummy interface: a connection to it
# leaves the container and is never answered, unless a rule refuses it first.
OUTSIDE = "198.51.100.7"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("debootstrap", "systemd-nspawn", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} missing (tests/install-deps.sh all)"
    return None


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    if reason := _missing():
        pytest.skip(reason)
    t0 = time.monotonic()
    image = nspawn.rootfs()
    wheels = nspawn.wheelhouse()
    t_cache = time.monotonic() - t0
    work = tmp_path_factory.mktemp("nspawn")
    root = work / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(image), str(root)], check=True)
    nspawn.export_source(root / "opt/peluit-src")
    box = nspawn.Container(root=root, log=work / "console.log")
    box.timings["image and wheels"] = t_cache
    try:
        box.boot(binds=[(wheels, "/opt/wheelhouse")])
        t1 = time.monotonic()
        box.install = box.run(INSTALL, timeout=900)  # type: ignore[attr-defined]
        box.timings["install"] = time.monotonic() - t1
        yield box
    finally:
        box.stop()
        print(f"\nnspawn timings (s): { {k: round(v, 1) for k, v in box.timings.items()} }")
        shutil.rmtree(work, ignore_errors=True)


# Offline like a server behind a careful admin: pip takes only the cached wheels, and still
# checks each against the lock's hashes.
INSTALL = ("PIP_NO_INDEX=1 PIP_FIND_LINKS=/opt/wheelhouse PIP_DISABLE_PIP_VERSION_CHECK=1 "
           "sh /opt/peluit-src/deploy/install.sh")


def _show(box, unit: str, *props: str) -> dict[str, str]:
    out = box.run(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_install_runs_in_full_and_says_what_to_do_next(box):
    out = box.install.stdout
    assert "Peluit is installed" in out and "auditor enroll" in out
    assert re.search(r"[a-z2-7]{56}\.onion", out), out[-2000:]


def test_every_unit_starts_and_stays_up_under_its_hardening(box):
    time.sleep(10)  # long enough for a unit killed by its sandbox to have failed
    for unit in (*UNITS, "tor@default.service", "peluit-retention.timer"):
        props = _show(box, unit, "ActiveState", "SubState", "NRestarts")
        assert props["ActiveState"] == "active", (unit, props, box.run(
            f"journalctl -u {unit} --no-pager | tail -30", check=False).stdout)
        assert props.get("NRestarts", "0") == "0", (unit, props)
    for unit in UNITS:
        props = _show(box, unit, "User", "MemoryDenyWriteExecute", "ProtectSystem",
                      "NoNewPrivileges", "PrivateUsers", "IPAddressDeny", "SystemCallFilter",
                      "RestrictAddressFamilies", "CapabilityBoundingSet", "MainPID")
        assert props["User"] == "peluit"
        assert props["MemoryDenyWriteExecute"] == "yes"
        assert props["ProtectSystem"] == "strict"
        assert props["NoNewPrivileges"] == "yes" and props["PrivateUsers"] == "yes"
        assert props["IPAddressDeny"] and props["SystemCallFilter"]
        assert props["CapabilityBoundingSet"] == ""
        # The sandbox as the kernel sees it: no capabilities, no new privileges, seccomp on.
        status = box.run(f"cat /proc/{props['MainPID']}/status").stdout
        assert re.search(r"^CapEff:\s+0+$", status, re.M), status
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
        assert re.search(r"^Seccomp:\s+2$", status, re.M)


def test_exposure_of_each_unit_as_systemd_rates_it_inside(box):
    scores = {}
    for unit in (*UNITS, "peluit-retention.service", "tor@default.service"):
        out = box.run(f"systemd-analyze security --no-pager {unit}", check=False).stdout
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\S+)", out)
        assert match, out[-2000:]
        scores[unit] = float(match.group(1))
    print(f"\nsystemd-analyze security inside the container: {scores}")
    for unit in (*UNITS, "peluit-retention.service"):
        assert scores[unit] <= 2.0, scores


def test_reporter_app_answers_on_loopback(box):
    out = box.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/").stdout
    assert out == "200", out


def test_reporter_app_answers_through_its_onion_service(box):
    """A Tor client reaches the reporter app through the onion service the system tor
    publishes (on a private Tor network on the container's loopback: tests/deploy/
    onion_probe.py says why)."""
    result = box.run("/opt/peluit/venv/bin/python /opt/peluit-src/tests/deploy/onion_probe.py",
                     check=False, timeout=600)
    print(f"\nonion probe:\n{result.stdout[-1500:]}")
    assert result.returncode == 0 and "STATUS 200" in result.stdout, (
        result.stdout[-3000:] + result.stderr[-3000:])


def _outside_route(box) -> None:
    """A veth pair whose far end nobody answers on, with a static neighbour entry: a SYN to
    OUTSIDE leaves the container's stack (and would time out) unless a rule refuses it."""
    box.run("ip link show peluit0 >/dev/null 2>&1 || { "
            "ip link add peluit0 type veth peer name peluit1 && "
            "ip addr add 198.51.100.1/24 dev peluit0 && ip link set peluit0 up && "
            "ip link set peluit1 up && "
            f"ip neigh replace {OUTSIDE} lladdr 02:00:00:00:00:07 dev peluit0; }}")
    box.run(f"cat > /tmp/connect.py <<'EOF'\n{CONNECT}EOF\nchmod 644 /tmp/connect.py")


CONNECT = ("import socket, sys, time\n"
           "s = socket.socket(); s.settimeout(3); t = time.monotonic()\n"
           "try:\n"
           "    s.connect((sys.argv[1], 80)); print('connected')\n"
           "except OSError as e:\n"
           "    print(type(e).__name__, e.errno, round(time.monotonic() - t, 1))\n")


def _connect(box, prefix: str, address: str = OUTSIDE) -> str:
    return box.run(f"{prefix} python3 /tmp/connect.py {address}").stdout.strip()


def test_app_user_cannot_reach_anything_but_loopback_nftables(box):
    """The nftables layer alone: the peluit user, outside the units' cgroups (so without
    IPAddressDeny), is refused at once; root, under no rule, goes out and waits for an answer
    that never comes."""
    _outside_route(box)
    root = _connect(box, "")
    assert root.startswith("TimeoutError") or root.startswith("timeout"), root
    before = box.run("nft list chain inet peluit output").stdout
    app = _connect(box, "runuser -u peluit --")
    assert app.startswith("ConnectionRefusedError"), app  # nft's reject, not a timeout
    after = box.run("nft list chain inet peluit output").stdout
    assert before != after, "the reject rule's counter did not move"
    loopback = box.run("runuser -u peluit -- curl -s -o /dev/null -w '%{http_code}' "
                       "http://127.0.0.1:8080/").stdout
    assert loopback == "200", loopback


def test_app_units_cannot_reach_anything_but_loopback_ipaddressdeny(box):
    """The systemd layer alone: a process (as root, so nftables' per-user rule does not
    apply) moved into the reporter unit's cgroup is refused by the unit's BPF filter."""
    _outside_route(box)
    kernel = box.run(f"python3 /opt/peluit-src/tests/deploy/bpf_probe.py {OUTSIDE}",
                     check=False).stdout.strip()
    if kernel != "enforced":
        pytest.skip(f"this kernel does not enforce cgroup BPF socket filters ({kernel}): "
                    "IPAddressDeny= cannot take effect here (tests/deploy/bpf_probe.py)")
    cgroup = _show(box, "peluit-reporter.service", "ControlGroup")["ControlGroup"]
    mount = box.run("findmnt -n -o TARGET -t cgroup2 | head -1").stdout.strip()
    procs = f"{mount}{cgroup}/cgroup.procs"
    out = box.run(f"sh -c 'echo $$ > {procs} && exec python3 /tmp/connect.py {OUTSIDE}'"
                  ).stdout.strip()
    assert out.startswith("PermissionError"), out  # EPERM from the cgroup's BPF program
    ok = box.run(f"sh -c 'echo $$ > {procs} && exec curl -s -o /dev/null -w %{{http_code}} "
                 "http://127.0.0.1:8080/'").stdout.strip()
    assert ok == "200", ok  # loopback still allowed


def test_journald_keeps_nothing_on_disk(box):
    box.run("logger -t peluit-test journal-probe && journalctl --sync")
    assert "journal-probe" in box.run("journalctl -t peluit-test --no-pager").stdout
    on_disk = box.run("find /var/log/journal -type f 2>/dev/null | head", check=False).stdout
    assert on_disk.strip() == "", on_disk
    assert box.run("find /run/log/journal -name '*.journal' | head -1").stdout.strip()


def test_retention_timer_is_armed_and_fires(box):
    props = _show(box, "peluit-retention.timer", "ActiveState", "NextElapseUSecRealtime")
    assert props["ActiveState"] == "active" and props["NextElapseUSecRealtime"], props
    # Fire it now: the same timer unit, its calendar moved to the next seconds by a drop-in.
    box.run("mkdir -p /run/systemd/system/peluit-retention.timer.d && printf "
            "'[Timer]\\nOnCalendar=\\nOnCalendar=*:*:0/5\\nRandomizedDelaySec=0\\n' "
            "> /run/systemd/system/peluit-retention.timer.d/now.conf && "
            "systemctl daemon-reload && systemctl restart peluit-retention.timer")
    deadline = time.monotonic() + 60
    props = {}
    while time.monotonic() < deadline:
        props = _show(box, "peluit-retention.service", "Result", "ExecMainStatus",
                      "ExecMainExitTimestampMonotonic", "ActiveState")
        if props.get("ExecMainExitTimestampMonotonic", "0") != "0" \
                and props["ActiveState"] != "activating":
            break
        time.sleep(1)
    assert props.get("Result") == "success" and props.get("ExecMainStatus") == "0", (
        props, box.run("journalctl -u peluit-retention --no-pager | tail", check=False).stdout)
    box.run("rm -r /run/systemd/system/peluit-retention.timer.d && systemctl daemon-reload")


def test_policy_check_inside_passes_every_control(box):
    """After the admin's next steps that install.sh lists: auditor cards enrolled (two, and
    one in the conflict group), the protection policy signed by the compliance officer."""
    from crypto.identity import AuditorIdentity

    # Two auditors, and one in the conflict group who alone reads reports about the
    # inspectorate itself (COI-1).
    cards = {}
    for name, group in (("Ani", ""), ("Budi", ""), ("Citra", " --group conflict")):
        cards[name] = AuditorIdentity.generate(name).card()
        (box.root / f"root/{name}.card").write_bytes(cards[name].to_bytes())
        box.run(f"/opt/peluit/venv/bin/peluit auditor enroll /root/{name}.card{group} "
                "--config /etc/peluit/peluit.toml")
    box.run("printf 'a long officer passphrase\\n' | /opt/peluit/venv/bin/peluit policy "
            "new-signer Kepatuhan --out /root/officer.sealed --card /root/officer.card")
    # The officer names the conflict group's member in [conflict] before signing (COI-1: a
    # conflict card the signed policy does not name is never sealed to).
    from policies.documents import conflict_section

    (box.root / "root/conflict.toml").write_text(conflict_section([cards["Citra"]]))
    box.run("for v in /etc/peluit/policy/*/; do cat /root/conflict.toml >> $v/policy.toml; done")
    box.run("for v in /etc/peluit/policy/*/; do printf 'a long officer passphrase\\n' | "
            "/opt/peluit/venv/bin/peluit policy sign $v --identity /root/officer.sealed; done")
    result = box.run("/opt/peluit/venv/bin/peluit policy check --config /etc/peluit/peluit.toml"
                     " --out /root/peluit-check", check=False, timeout=300)
    print(f"\npeluit policy check (exit {result.returncode}):\n{result.stdout[-3000:]}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_rerun_is_the_update_path_and_keeps_every_secret(box):
    digest = "sha256sum " + " ".join(SECRETS)
    before = box.run(digest).stdout
    box.run(INSTALL, timeout=900)
    assert box.run(digest).stdout == before
    time.sleep(5)
    for unit in (*UNITS, "tor@default.service"):
        assert _show(box, unit, "ActiveState")["ActiveState"] == "active", unit
    out = box.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/").stdout
    assert out == "200"
