# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real systemd hosts for the rig: systemd as PID 1 in its own PID, mount, UTS and IPC namespaces.

No Docker, no VM and no systemd-nspawn (it needs the host's systemd, which this machine kind lacks):

* one Debian root filesystem, built once with debootstrap into ``<cache>/systemd-root`` (systemd, dbus,
  python3, openssh-server, sudo, zstd; a user ``rig`` with passwordless sudo; udev, getty and apt timers
  masked), under ``<cache>/.systemd-root.lock``, renamed into place only when complete;
* each host an overlay mount of that root (its own upper directory under ``<state>/systemd-hosts/<name>``),
  mounted inside the host's own mount namespace, so nothing stays mounted once the host is gone;
* the host's network namespace is the machine's: each host's sshd listens on its own loopback port, and each
  host gets its own Ollama port (``ollama_listen`` in the inventory);
* ``up`` writes an Ansible inventory (``<state>/systemd-hosts/inventory.ini``) and ``hosts.json``;
* ``stop``/``start`` of one host is a reboot (same upper directory), ``down`` stops every host: ``systemctl
  poweroff`` inside (PID 1 ignores SIGTERM), SIGKILL of the namespace's PID 1 after a grace period. When PID 1
  of a PID namespace dies the kernel kills every process in it; the mount namespace goes with the last one.

Usage (also through ``rig.py hosts-up`` / ``hosts-down``)::

    python3 tests/rig/systemd_hosts.py build                # the cached root only
    python3 tests/rig/systemd_hosts.py up --count 2         # start sd1, sd2; print the inventory path
    python3 tests/rig/systemd_hosts.py stop sd1; ... start sd1   # a reboot of sd1
    python3 tests/rig/systemd_hosts.py down                 # stop every host, check nothing is left
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LLMOPS_RIG_CACHE") or "/var/cache/llmops-rig")
STATE = Path(os.environ.get("LLMOPS_RIG_STATE") or (REPO_ROOT / "tests" / "output" / "rig"))

SUITE = "bookworm"
ROOT_FORMAT = 1  # bump when the root's content changes: a root with another format is rebuilt
PACKAGES = ["systemd", "systemd-sysv", "dbus", "python3", "openssh-server", "sudo", "zstd"]
USER = "rig"
# Units that touch the machine's devices or do background work a test host must not do.
MASKED_UNITS = [
    "systemd-udevd.service", "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
    "systemd-udev-trigger.service", "systemd-udev-settle.service", "getty.target", "console-getty.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "systemd-timesyncd.service", "e2scrub_reap.service",
    "systemd-hwdb-update.service", "systemd-modules-load.service", "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount", "sys-kernel-config.mount", "sys-fs-fuse-connections.mount",
]
BOOT_TIMEOUT = float(os.environ.get("LLMOPS_RIG_HOST_BOOT_TIMEOUT") or 120)
STOP_GRACE = 30.0


def root_dir() -> Path:
    return CACHE / "systemd-root"


def hosts_dir() -> Path:
    return STATE / "systemd-hosts"


def log(msg: str) -> None:
    print(f"[rig] {msg}", flush=True)


class HostError(Exception):
    pass


# --------------------------------------------------------------------------- the cached root


def debian_mirror() -> str:
    """The Debian mirror apt uses on this machine (LLMOPS_RIG_DEBIAN_MIRROR wins)."""
    if os.environ.get("LLMOPS_RIG_DEBIAN_MIRROR"):
        return os.environ["LLMOPS_RIG_DEBIAN_MIRROR"]
    srcs = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for src in srcs:
        try:
            text = src.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            for word in line.split():
                w = word.rstrip("/")
                if w.startswith("http") and w.endswith("/debian"):
                    return w
    return "http://deb.debian.org/debian"


def root_marker() -> Path:
    return root_dir() / ".llmops-rig-root.json"


def root_complete() -> bool:
    try:
        return json.loads(root_marker().read_text()).get("format") == ROOT_FORMAT
    except (OSError, ValueError):
        return False


class _flock:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "w")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for {self.path} (another rig builds the systemd root)")
            fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def _run(cmd: list[str], logfile: Path | None = None, **kw) -> None:
    if logfile is None:
        subprocess.run(cmd, check=True, **kw)
        return
    with open(logfile, "a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        r = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False, **kw)
    if r.returncode:
        tail = "".join(logfile.read_text(errors="replace").splitlines(True)[-25:])
        raise HostError(f"{' '.join(cmd[:3])}... failed (exit {r.returncode}); log {logfile}:\n{tail}")


def ensure_root() -> Path:
    """Build the root filesystem once (debootstrap), under a lock; a killed build is never used."""
    if root_complete():
        return root_dir()
    with _flock(CACHE / ".systemd-root.lock"):
        if root_complete():
            return root_dir()
        t0 = time.monotonic()
        if not shutil.which("debootstrap"):
            log("installing debootstrap (apt-get)")
            subprocess.run(["apt-get", "install", "-y", "-q", "debootstrap"], check=True,
                           stdout=subprocess.DEVNULL, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        logdir = CACHE / "logs"
        logdir.mkdir(parents=True, exist_ok=True)
        logfile = logdir / "systemd-root.log"
        logfile.write_text("")
        tmp = CACHE / f".systemd-root.tmp-{os.getpid()}"
        for old in CACHE.glob(".systemd-root.tmp-*"):
            shutil.rmtree(old, ignore_errors=True)
        mirror = debian_mirror()
        log(f"building the systemd host root (debootstrap {SUITE} from {mirror}; log {logfile})")
        _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE, str(tmp), mirror],
             logfile)
        configure_root(tmp, logfile)
        if root_dir().exists():
            shutil.rmtree(root_dir())
        (tmp / root_marker().name).write_text(json.dumps({
            "format": ROOT_FORMAT, "suite": SUITE, "mirror": mirror, "packages": PACKAGES,
            "build_seconds": round(time.monotonic() - t0, 1)}) + "\n")
        tmp.rename(root_dir())
        log(f"systemd host root built: {time.monotonic() - t0:.1f}s ({root_dir()})")
    return root_dir()


def configure_root(root: Path, logfile: Path) -> None:
    """What every host shares: the sudo user, sshd settings, masked units, no machine-id."""
    _run(["chroot", str(root), "useradd", "--create-home", "--shell", "/bin/bash", USER], logfile)
    sudoers = root / "etc/sudoers.d/llmops-rig"
    sudoers.write_text(f"{USER} ALL=(ALL:ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    (root / "etc/ssh/sshd_config.d/llmops-rig.conf").write_text(
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\nPermitRootLogin no\n")
    for unit in MASKED_UNITS:
        link = root / "etc/systemd/system" / unit
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to("/dev/null")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    # Each host writes its own (an empty file is what systemd expects in an image).
    (root / "etc/machine-id").write_text("")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.is_symlink() or dbus_id.exists():
        dbus_id.unlink()
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


# --------------------------------------------------------------------------- hosts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _put(upper: Path, lower: Path, rel: str, content: str, mode: int, owner: tuple[int, int]) -> None:
    """Write rel into the overlay's upper directory; missing parents copy the lower directory's owner/mode."""
    parts = Path(rel).parts[:-1]
    for i in range(1, len(parts) + 1):
        d = upper.joinpath(*parts[:i])
        if not d.exists():
            d.mkdir()
            src = lower.joinpath(*parts[:i])
            st = src.stat() if src.exists() else None
            if st is not None:
                os.chown(d, st.st_uid, st.st_gid)
                d.chmod(st.st_mode & 0o7777)
            else:
                os.chown(d, *owner)
                d.chmod(0o700)
    f = upper / rel
    f.write_text(content)
    os.chown(f, *owner)
    f.chmod(mode)


def user_ids(root: Path) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == USER:
            return int(f[2]), int(f[3])
    raise HostError(f"no user {USER} in {root}/etc/passwd")


def ssh_key() -> Path:
    key = hosts_dir() / "id_ed25519"
    if not key.exists():
        hosts_dir().mkdir(parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "llmops-rig", "-f", str(key)],
                       check=True)
    return key


def read_hosts() -> dict:
    try:
        return json.loads((hosts_dir() / "hosts.json").read_text())
    except (OSError, ValueError):
        return {}


def write_hosts(hosts: dict) -> None:
    hosts_dir().mkdir(parents=True, exist_ok=True)
    (hosts_dir() / "hosts.json").write_text(json.dumps(hosts, indent=2) + "\n")
    key = ssh_key()
    lines = ["# Written by tests/rig/systemd_hosts.py: systemd hosts on loopback (ssh as rig, sudo for become)",
             "[systemd_hosts]"]
    for name, h in sorted(hosts.items()):
        lines.append(f"{name} ansible_host=127.0.0.1 ansible_port={h['ssh_port']} ansible_user={USER} "
                     f"ansible_ssh_private_key_file={key} ansible_python_interpreter=/usr/bin/python3 "
                     f"ollama_listen=127.0.0.1:{h['ollama_port']}")
    lines += ["", "[systemd_hosts:vars]",
              "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
              "-o IdentitiesOnly=yes -o LogLevel=ERROR'", "ansible_pipelining=true", ""]
    (hosts_dir() / "inventory.ini").write_text("\n".join(lines))


def _pid_root(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/root")
    except OSError:
        return ""


def init_pid(h: dict) -> int | None:
    """The host's PID 1 (seen from here), if it still runs with the host's root."""
    pid = h.get("init_pid")
    if pid and _pid_root(pid) == h["merged"]:
        return pid
    return None


def unshare_alive(h: dict) -> bool:
    pid = h.get("unshare_pid")
    if not pid:
        return False
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmd) and cmd[0].endswith(b"unshare") and h["merged"].encode() in b" ".join(cmd)


def in_host(h: dict, cmd: list[str], **kw) -> subprocess.CompletedProcess:
    pid = init_pid(h)
    if pid is None:
        raise HostError(f"{h['name']} does not run")
    return subprocess.run(["nsenter", "-t", str(pid), "-m", "-p", "-u", "-i", "-C", "-r", "-w"] + cmd,
                          capture_output=True, text=True, check=False, **kw)


def new_host(name: str, taken: set[int]) -> dict:
    ports = set()
    while len(ports) < 2:
        p = free_port()
        if p not in taken:
            ports.add(p)
    ssh_port, ollama_port = sorted(ports)
    d = hosts_dir() / name
    return {"name": name, "dir": str(d), "upper": str(d / "upper"), "work": str(d / "work"),
            "merged": str(d / "merged"), "ssh_port": ssh_port, "ollama_port": ollama_port}


def cgroup_dirs(h: dict) -> list[Path]:
    """The host's own cgroup in every hierarchy mounted here (cgroup v1 controllers, name=systemd, v2)."""
    tag = "llmops-rig-" + hashlib.sha1(h["dir"].encode()).hexdigest()[:10]
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, post = line.split(" - ", 1) if " - " in line else (line, "?")
        if post.split()[0] in ("cgroup", "cgroup2"):
            out.append(Path(pre.split()[4]) / tag)
    return out


def make_cgroups(h: dict) -> list[Path]:
    """Each host gets its own cgroup subtree, joined before unshare --cgroup: the host's systemd sees it as its
    root and creates system.slice/... inside it, so two hosts' units never share a cgroup (systemd kills a
    unit's whole cgroup when it stops it)."""
    dirs = cgroup_dirs(h)
    for d in dirs:
        d.mkdir(exist_ok=True)
        for f in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset cgroup takes no task until these are set
            if (d / f).exists() and not (d / f).read_text().strip():
                (d / f).write_text((d.parent / f).read_text())
    return dirs


def remove_cgroups(h: dict, wait: float = 10.0) -> list[str]:
    """Remove the host's cgroups, leaves first (the kernel may hold one a moment after its last task exited)."""
    end = time.monotonic() + wait
    while True:
        left = []
        for d in cgroup_dirs(h):
            if not d.exists():
                continue
            for sub in sorted((t[0] for t in os.walk(d)), key=len, reverse=True):
                try:
                    os.rmdir(sub)
                except OSError as exc:
                    left.append(f"cgroup {sub} ({exc.strerror})")
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.2)


def prepare_upper(h: dict, root: Path) -> None:
    """First start only: the host's own files (hostname, machine-id, sshd port, authorized key)."""
    upper = Path(h["upper"])
    for k in ("upper", "work", "merged"):
        Path(h[k]).mkdir(parents=True, exist_ok=True)
    if (upper / "etc/hostname").exists():
        return
    rootown = (0, 0)
    _put(upper, root, "etc/hostname", h["name"] + "\n", 0o644, rootown)
    _put(upper, root, "etc/machine-id", os.urandom(16).hex() + "\n", 0o444, rootown)
    _put(upper, root, "etc/ssh/sshd_config.d/00-llmops-rig-port.conf",
         f"Port {h['ssh_port']}\nListenAddress 127.0.0.1\n", 0o644, rootown)
    pub = ssh_key().with_suffix(".pub").read_text()
    _put(upper, root, f"home/{USER}/.ssh/authorized_keys", pub, 0o600, user_ids(root))


def start_host(h: dict) -> dict:
    """Boot the host: overlay + proc/sys/run/dev inside new namespaces, systemd as PID 1; wait for sshd."""
    root = ensure_root()
    prepare_upper(h, root)
    if init_pid(h):
        return h
    t0 = time.monotonic()
    m = h["merged"]
    script = f"""set -e
mount -t overlay overlay -o lowerdir={root},upperdir={h['upper']},workdir={h['work']} {m}
mount -t proc proc {m}/proc
mount -t sysfs -o ro sysfs {m}/sys
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs {m}/run
mount -t tmpfs -o mode=755,nosuid tmpfs {m}/dev
for d in null zero full random urandom tty; do touch {m}/dev/$d; mount --bind /dev/$d {m}/dev/$d; done
mkdir -p {m}/dev/pts {m}/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts {m}/dev/pts
ln -s pts/ptmx {m}/dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs {m}/dev/shm
hostname {h['name']}
exec chroot {m} env container=other /lib/systemd/systemd --system
"""
    logfile = Path(h["dir"]) / "console.log"
    procs = [str(d / "cgroup.procs") for d in make_cgroups(h)]

    def join_cgroups():
        for f in procs:
            with open(f, "w") as fh:
                fh.write(str(os.getpid()))

    with open(logfile, "a") as fh:
        fh.write(f"--- start {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
        fh.flush()
        proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--cgroup",
                                 "--propagation", "private", "sh", "-c", script, m],
                                stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=join_cgroups)
    h["unshare_pid"] = proc.pid
    deadline = time.monotonic() + BOOT_TIMEOUT
    child = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HostError(f"{h['name']}: unshare exited {proc.returncode}; console {logfile}:\n"
                            + logfile.read_text(errors="replace")[-3000:])
        try:
            kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except OSError:
            kids = []
        if kids and _pid_root(int(kids[0])) == m:
            child = int(kids[0])
            break
        time.sleep(0.1)
    if child is None:
        raise HostError(f"{h['name']}: systemd did not start within {BOOT_TIMEOUT:.0f}s (console {logfile})")
    h["init_pid"] = child
    state = ""
    while time.monotonic() < deadline:
        r = in_host(h, ["systemctl", "is-system-running"])
        state = r.stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(0.5)
    else:
        raise HostError(f"{h['name']}: systemd is {state!r} after {BOOT_TIMEOUT:.0f}s (console {logfile})")
    if state == "degraded":
        failed = in_host(h, ["systemctl", "--failed", "--no-legend", "--plain"]).stdout.strip()
        log(f"{h['name']}: systemd is degraded, failed units: {failed}")
    wait_ssh(h, deadline)
    log(f"host {h['name']} up: ssh 127.0.0.1:{h['ssh_port']}, ollama port {h['ollama_port']}, "
        f"PID 1 = {child}: {time.monotonic() - t0:.1f}s")
    return h


def wait_ssh(h: dict, deadline: float) -> None:
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", "-i", str(ssh_key()),
           "-p", str(h["ssh_port"]), f"{USER}@127.0.0.1", "sudo", "-n", "systemctl", "is-active", "ssh"]
    last = ""
    while time.monotonic() < deadline:
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode == 0:
            return
        last = (r.stderr or r.stdout).strip()
        time.sleep(0.5)
    raise HostError(f"{h['name']}: ssh {USER}@127.0.0.1:{h['ssh_port']} + sudo failed: {last}")


def stop_host(h: dict) -> None:
    """poweroff inside, SIGKILL to the namespace's PID 1 after STOP_GRACE; wait until nothing is left."""
    t0 = time.monotonic()
    pid = init_pid(h)
    if pid:
        try:
            in_host(h, ["systemctl", "--no-block", "poweroff"], timeout=15)
        except (HostError, subprocess.TimeoutExpired):
            pass
        end = time.monotonic() + STOP_GRACE
        while time.monotonic() < end and init_pid(h):
            time.sleep(0.2)
        if init_pid(h):
            log(f"{h['name']}: no poweroff after {STOP_GRACE:.0f}s, SIGKILL to PID 1 ({pid})")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    end = time.monotonic() + 15
    while time.monotonic() < end and (unshare_alive(h) or init_pid(h)):
        time.sleep(0.1)
    if unshare_alive(h):
        os.kill(h["unshare_pid"], signal.SIGKILL)
    left = leftovers(h) + remove_cgroups(h)
    if left:
        raise HostError(f"{h['name']}: still there after stop: {left}")
    h.pop("init_pid", None)
    h.pop("unshare_pid", None)
    log(f"host {h['name']} stopped: {time.monotonic() - t0:.1f}s")


def leftovers(h: dict) -> list[str]:
    """Processes whose root is inside the host, and mounts of it in this namespace."""
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            r = _pid_root(int(p.name))
            if r == h["merged"] or r.startswith(h["merged"] + "/"):
                out.append(f"pid {p.name}")
    try:
        mounts = Path("/proc/self/mountinfo").read_text()
    except OSError:
        mounts = ""
    out += [f"mount {line.split()[4]}" for line in mounts.splitlines() if h["dir"] in line.split()[4]]
    return out


# --------------------------------------------------------------------------- commands


def up(count: int, fresh: bool = False) -> dict:
    ensure_root()
    hosts = read_hosts()
    if fresh:
        down(hosts)
        hosts = {}
    names = [f"sd{i}" for i in range(1, count + 1)]
    for name in list(hosts):
        if name not in names:
            stop_host(hosts[name])
            shutil.rmtree(hosts[name]["dir"], ignore_errors=True)
            del hosts[name]
    taken = {p for h in hosts.values() for p in (h["ssh_port"], h["ollama_port"])}
    for name in names:
        if name not in hosts:
            shutil.rmtree(hosts_dir() / name, ignore_errors=True)
            hosts[name] = new_host(name, taken)
            taken |= {hosts[name]["ssh_port"], hosts[name]["ollama_port"]}
        write_hosts(hosts)
        start_host(hosts[name])
        write_hosts(hosts)
    log(f"inventory: {hosts_dir() / 'inventory.ini'}")
    return hosts


def down(hosts: dict | None = None, remove: bool = True) -> None:
    hosts = read_hosts() if hosts is None else hosts
    for h in hosts.values():
        stop_host(h)
    if remove and hosts_dir().exists():
        for h in hosts.values():
            shutil.rmtree(h["dir"], ignore_errors=True)
        for f in ("hosts.json", "inventory.ini"):
            (hosts_dir() / f).unlink(missing_ok=True)
    elif hosts:
        write_hosts(hosts)


def stop_all() -> list[str]:
    """For rig.py down: stop every host this state directory started (their disks are removed)."""
    hosts = read_hosts()
    if not hosts:
        return []
    down(hosts)
    return [f"systemd hosts ({', '.join(sorted(hosts))})"]


# rig.py hosts-up ARGS = systemd_hosts.py up ARGS; rig.py hosts-down = down; rig.py hosts CMD ARGS = CMD ARGS
RIG_COMMANDS = ("hosts-up", "hosts-down", "hosts")


def rig_command(argv: list[str]) -> int:
    if argv[0] == "hosts":
        return main(argv[1:])
    return main([argv[0].split("-", 1)[1]] + argv[1:])


def one(name: str) -> tuple[dict, dict]:
    hosts = read_hosts()
    if name not in hosts:
        raise HostError(f"no host {name} (known: {', '.join(sorted(hosts)) or 'none'})")
    return hosts, hosts[name]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build the cached root filesystem (debootstrap) if missing")
    u = sub.add_parser("up", help="start COUNT hosts sd1..sdN (reuses running ones) and write the inventory")
    u.add_argument("--count", type=int, default=2)
    u.add_argument("--fresh", action="store_true", help="stop and remove existing hosts first")
    u.add_argument("--inventory", help="also write the inventory to this file")
    sub.add_parser("down", help="stop every host and remove their directories")
    for c in ("stop", "start", "reboot"):
        s = sub.add_parser(c, help=f"{c} one host (its disk, the overlay's upper directory, is kept)")
        s.add_argument("name")
    e = sub.add_parser("exec", help="run a command in a host (as root, through nsenter)")
    e.add_argument("name")
    e.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("status", help="print hosts.json with whether each host runs")
    args = p.parse_args(argv)
    try:
        return run(args)
    except HostError as exc:
        print(f"[rig] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1


def run(args) -> int:
    t0 = time.monotonic()
    if args.cmd == "build":
        ensure_root()
    elif args.cmd == "up":
        up(args.count, args.fresh)
        if args.inventory:
            shutil.copyfile(hosts_dir() / "inventory.ini", args.inventory)
    elif args.cmd == "down":
        down()
    elif args.cmd in ("stop", "start", "reboot"):
        hosts, h = one(args.name)
        if args.cmd in ("stop", "reboot"):
            stop_host(h)
            write_hosts(hosts)
        if args.cmd in ("start", "reboot"):
            start_host(h)
            write_hosts(hosts)
    elif args.cmd == "exec":
        h = one(args.name)[1]
        r = in_host(h, args.command)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        return r.returncode
    elif args.cmd == "status":
        hosts = read_hosts()
        for h in hosts.values():
            h["running"] = init_pid(h) is not None
        print(json.dumps(hosts, indent=2))
        return 0 if hosts and all(h["running"] for h in hosts.values()) else 1
    log(f"systemd hosts {args.cmd}: {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
