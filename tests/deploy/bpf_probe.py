"""Run inside the nspawn container: does this kernel enforce a cgroup BPF socket filter?

Loads the smallest cgroup_skb egress program (drop everything), attaches it to a fresh
cgroup, moves itself in and connects to OUTSIDE (argv[1]). Prints "enforced" if the kernel
refused the connection (EPERM), "not enforced" if the SYN went out anyway (time-out). Some
kernels (a host that used the v1 net_cls/net_prio controllers, some VMs) switch cgroup socket
matching off; IPAddressDeny= is then silently ineffective and the deployment test says so
instead of failing.
"""

import ctypes
import os
import socket
import struct
import sys

BPF, PROG_LOAD, PROG_ATTACH = 321, 5, 8  # x86_64 syscall number; aarch64 below
if os.uname().machine == "aarch64":
    BPF = 280
libc = ctypes.CDLL(None, use_errno=True)
insns = ctypes.create_string_buffer(struct.pack("<BBhi", 0xB7, 0, 0, 0)  # r0 = 0 (drop)
                                    + struct.pack("<BBhi", 0x95, 0, 0, 0))  # exit
licence = ctypes.create_string_buffer(b"GPL")
attr = ctypes.create_string_buffer(struct.pack(
    "<IIQQIIQI", 8, 2, ctypes.addressof(insns), ctypes.addressof(licence), 0, 0, 0, 0)
    + b"\0" * 80)  # BPF_PROG_TYPE_CGROUP_SKB, 2 instructions
prog = libc.syscall(BPF, PROG_LOAD, attr, len(attr))
if prog < 0:
    print("not enforced: cannot load a cgroup_skb program", os.strerror(ctypes.get_errno()))
    sys.exit(0)
os.makedirs("/sys/fs/cgroup/peluit-bpf-probe", exist_ok=True)
cgroup = os.open("/sys/fs/cgroup/peluit-bpf-probe", os.O_RDONLY | os.O_DIRECTORY)
attr = ctypes.create_string_buffer(struct.pack("<IIII", cgroup, prog, 1, 2) + b"\0" * 100)
if libc.syscall(BPF, PROG_ATTACH, attr, len(attr)) < 0:  # INET_EGRESS, ALLOW_MULTI
    print("not enforced: cannot attach", os.strerror(ctypes.get_errno()))
    sys.exit(0)
with open("/sys/fs/cgroup/peluit-bpf-probe/cgroup.procs", "w") as f:
    f.write(str(os.getpid()))
sock = socket.socket()
sock.settimeout(3)
try:
    sock.connect((sys.argv[1], 80))
    print("not enforced: connected")
except PermissionError:
    print("enforced")
except OSError as exc:
    print(f"not enforced: {type(exc).__name__}")
