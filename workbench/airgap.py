"""The air-gap check: the workbench refuses to run while any non-loopback interface is up.

An interface counts as up when the administrator brought it up (IFF_UP in its flags) or the
kernel reports a link (operstate ``up``/``unknown``/``dormant``): an interface that is up but has
no cable yet is one plug away from the network, so it counts. Reading sysfs needs no privilege
and no extra tool. Loopback (IFF_LOOPBACK) is the only exception.

A demo switch lets the workbench run on an ordinary machine; then every page and every command
says so, loudly, with ``BANNER``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SYS_CLASS_NET = Path("/sys/class/net")
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
_LINKED = {"up", "unknown", "dormant"}
BANNER = "NOT AIR-GAPPED"


class NotAirGappedError(Exception):
    """A non-loopback network interface is up."""

    def __init__(self, interfaces: list[str]):
        self.interfaces = interfaces
        super().__init__(
            "the workbench refuses to start: network interface(s) up: " + ", ".join(interfaces)
            + " (disconnect them, or use --demo-not-air-gapped for a demonstration)")


@dataclass(frozen=True)
class Interface:
    name: str
    flags: int
    operstate: str

    @property
    def is_loopback(self) -> bool:
        return bool(self.flags & IFF_LOOPBACK)

    @property
    def is_up(self) -> bool:
        return bool(self.flags & IFF_UP) or self.operstate in _LINKED


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def interfaces(root: Path = SYS_CLASS_NET) -> list[Interface]:
    found = []
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        raw_flags = _read(entry / "flags")
        try:
            flags = int(raw_flags, 16)
        except ValueError:
            flags = IFF_UP  # unreadable flags: assume the worst
        found.append(Interface(entry.name, flags, _read(entry / "operstate").lower()))
    return found


def interfaces_up(root: Path = SYS_CLASS_NET) -> list[str]:
    """Names of the non-loopback interfaces that are up (empty on an air-gapped machine)."""
    if not root.is_dir():
        # No sysfs: we cannot prove the gap, so we do not claim it.
        return ["(cannot read " + str(root) + ")"]
    return [i.name for i in interfaces(root) if i.is_up and not i.is_loopback]


def check(demo_not_air_gapped: bool, root: Path = SYS_CLASS_NET) -> bool:
    """Raise NotAirGappedError when an interface is up and the demo switch is off.

    Returns True when the machine is air-gapped, False when it is not but the demo switch
    allows it (the caller must then show ``BANNER`` everywhere)."""
    up = interfaces_up(root)
    if not up:
        return True
    if demo_not_air_gapped:
        return False
    raise NotAirGappedError(up)


@dataclass
class AirGapWatch:
    """The web UI's running check (a service found by class): ``air_gapped`` is how it started;
    once an interface has come up while it ran, ``broken`` stays set until a restart, whatever
    the interface does next."""

    air_gapped: bool
    sysfs: Path = SYS_CLASS_NET
    broken: bool = False

    def newly_broken(self) -> bool:
        """True once, at the first request after an interface came up (the caller then drops
        every session); ``broken`` says whether the gap is gone at all."""
        if not self.air_gapped or self.broken:
            return False
        if interfaces_up(self.sysfs):
            self.broken = True
            return True
        return False
