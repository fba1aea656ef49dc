"""The rig's daemons (start them in their own session, find them by pid file, stop their process group), and the
locks between rig processes that share the cache."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from riglib import config
from riglib.output import log


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # zombies count as dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pid_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def read_pid(name: str) -> int | None:
    p = config.STATE / f"{name}.pid"
    try:
        return int(p.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pidfile_proc_alive(name: str, expect: str) -> int | None:
    """pid from <state>/<name>.pid if that process is alive and its command line contains ``expect``."""
    pid = read_pid(name)
    if pid and pid_alive(pid) and expect in pid_cmdline(pid):
        return pid
    return None


def start_daemon(name: str, argv: list[str], env: dict, logfile: Path, pidfile: Path | None) -> subprocess.Popen:
    logfile.parent.mkdir(parents=True, exist_ok=True)
    lf = open(logfile, "ab")
    lf.write(f"\n==== {time.strftime('%F %T')} start {' '.join(argv)}\n".encode())
    lf.flush()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                            start_new_session=True, close_fds=True)
    lf.close()
    if pidfile is not None:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        pidfile.write_text(f"{proc.pid}\n")
    return proc


def kill_group(pid: int, label: str, sig=signal.SIGTERM, grace: float = 10.0) -> None:
    """Signal the process group led by pid (our daemons are session leaders) and wait for it."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    target_group = pgid == pid
    try:
        if target_group:
            os.killpg(pgid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap if it is our child
        except ChildProcessError:
            pass
        if not pid_alive(pid) and not (target_group and group_alive(pgid)):
            return
        time.sleep(0.05)
    log(f"{label} (pid {pid}) did not stop after {grace:.0f}s, sending SIGKILL")
    try:
        if target_group:
            os.killpg(pgid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(0.2)


def group_alive(pgid: int) -> bool:
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.getpgid(int(d)) == pgid and pid_alive(int(d)):
                    return True
            except (ProcessLookupError, PermissionError):
                continue
    return False


def stop_named(name: str, expect: str, sig=signal.SIGTERM) -> bool:
    pid = pidfile_proc_alive(name, expect)
    if pid:
        kill_group(pid, name, sig)
    (config.STATE / f"{name}.pid").unlink(missing_ok=True)
    return pid is not None


def base_env() -> dict:
    env = dict(os.environ)
    no_proxy = "127.0.0.1,localhost"
    for k in ("NO_PROXY", "no_proxy"):
        env[k] = no_proxy + ("," + env[k] if env.get(k) else "")
    return env


class cache_lock:
    """An exclusive lock on ``<cache>/<name>`` between rig processes (flock), saying what it waits for."""

    def __init__(self, name: str, holder: str):
        self.path = config.CACHE / name
        self.holder = holder

    def __enter__(self):
        import fcntl
        config.CACHE.mkdir(parents=True, exist_ok=True)
        self.f = open(self.path, "w")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for {self.holder} (lock {self.path})")
            fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False
