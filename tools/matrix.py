# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ansible-core x Ollama x Python test matrix, run for real (tests/rig/rig.py), with a table at the end.

    python3 tools/matrix.py ci      what CI (.ci/run, make test) runs, sized for 2 cores:
                              - every module's target and the role's (CI_EVERY_LINE_TARGETS) on the newest
                                Ollama with every ansible-core line 2.16 ... 2.21;
                              - the progress and preflight targets (CI_EDGE_TARGETS) also on the oldest,
                                pinned and newest line (2.16, 2.19, 2.21);
                              - every other target on the pinned line 2.19;
                              - the module targets ollama_info/_loaded/_model/_alias/_bundle on each older
                                Ollama (2.19);
                              - the unit tests on the oldest and newest managed-node Python (3.8, 3.13).
    python3 tools/matrix.py full    the whole cross product: every ansible-core line x every Ollama version x every
                            target, and the unit tests on every Python 3.8 ... 3.13.

Each integration cell stages its own copy of the collection, starts its own rig (own ports and state; the
builds and models come from the shared cache) with its Ollama version, runs each target with its own
`ansible-test integration --local` (so one failure does not hide the rest) and stops its rig. Cells run
--jobs at a time.  ansible-core comes from PyPI into one venv per line, cached outside the checkout
($LLMOPS_MATRIX_CACHE, default /var/cache/llmops-matrix), so a warm run installs nothing.

Prints one "MATRIX-CELL: <cell> <passed|FAILED|NOT RUN> ..." line per cell, the table, and
"matrix: N passed, M failed (tests); C cells ok, F cells failed, R cells not run".  Exits 1 unless every
cell ran and passed.  Python 3.9+ standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RIG = REPO / "tests" / "rig" / "rig.py"
PYENV = Path(os.environ.get("PYENV_ROOT") or "/root/.pyenv") / "versions"
CACHE = Path(os.environ.get("LLMOPS_MATRIX_CACHE") or "/var/cache/llmops-matrix")

# ansible-core line -> (exact release, controller Python). The controller Pythons each line supports:
# 2.16/2.17: 3.10-3.12; 2.18/2.19: 3.11-3.13; 2.20/2.21: 3.12-3.14 (setup.cfg/pyproject of each release).
CORE_LINES = {
    "2.16": ("2.16.19", "3.11"),
    "2.17": ("2.17.14", "3.11"),
    "2.18": ("2.18.19", "3.11"),
    "2.19": ("2.19.14", "3.11"),
    "2.20": ("2.20.10", "3.12"),
    "2.21": ("2.21.5", "3.12"),
}
VERSIONS_CORE = "2.19"                     # the one ansible-core line that runs every Ollama version
OLLAMA_NEWEST = "0.34.4"
OLLAMA_VERSIONS = ("0.34.4", "0.24.0", "0.6.5")
# CI, sized for 2 cores: on every ansible-core line with the newest Ollama, every module's target (templating of
# option values, the default callback's diff, module_utils on the controller Python all change with the line) and
# the role's; on the oldest, pinned and newest line also the progress action plugins (ansible-core's async
# machinery) and the role's preflight; on the pinned line only the long whole-play targets (install path, systemd
# hosts, instances, fleet playbooks). `make matrix` runs everything everywhere.
CI_EVERY_LINE_TARGETS = ("check_diff", "connection", "ollama_alias", "ollama_bundle", "ollama_info", "ollama_loaded",
                         "ollama_model", "role_ollama")
CI_EDGE_TARGETS = ("progress", "role_preflight")
# Anything else (role_install, role_systemd, role_instances, fleet_report, rolling_update, new targets) runs on
# the pinned line.
# Rough relative cost of a target (the default is 1), to start the longest cells first.
TARGET_WEIGHT = {"role_systemd": 12, "role_install": 8, "role_ollama": 8, "role_instances": 6, "progress": 3,
                 "ollama_bundle": 2, "fleet_report": 3, "rolling_update": 3}
# Long targets that CI runs in cells of their own (one cell per group), beside the rest of their line.
CI_OWN_CELL_GROUPS = (("role_ollama",), ("role_install",), ("role_systemd",),
                      ("role_instances", "fleet_report", "rolling_update"))
CI_VERSION_TARGETS = ("ollama_info", "ollama_loaded", "ollama_model", "ollama_alias", "ollama_bundle")
UNIT_PYTHONS_CI = ("3.8", "3.13")          # the managed-node Pythons the README promises, oldest and newest
# Extra attempts of a failed integration target (reported FLAKY when one is needed).
RETRIES = int(os.environ.get("LLMOPS_MATRIX_RETRIES") or 1)
UNIT_PYTHONS_FULL = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
# Test-time packages of the integration targets (the official ollama client, requests), as in
# tests/requirements-dev.txt.
TARGET_PACKAGES = ("requests==2.34.2", "ollama==0.6.3")

PRINT_LOCK = threading.Lock()


def say(msg: str) -> None:
    with PRINT_LOCK:
        print(f"[matrix] {msg}", flush=True)


# --------------------------------------------------------------------------------------------- environment

def pyenv_python(version: str) -> Path:
    """The newest pyenv interpreter of that X.Y (the machine image has 3.8 ... 3.13)."""
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)])
    if found:
        return found[-1]
    path = shutil.which(f"python{version}")
    if path:
        return Path(path)
    raise SystemExit(f"matrix: no Python {version} (looked in {PYENV} and on PATH)")


def ansible_test_ssh_key() -> None:
    """The SSH key pair every ansible-test run of this user shares (~/.ansible/test/id_rsa{,.pub}), made once
    before the cells start: with a fresh HOME, cells starting together each ran ssh-keygen on the same path and
    all but one failed ("id_rsa already exists. Overwrite (y/n)?"). Made the way ansible-test makes it
    (core_ci.SshKey.generate_key_pair: PEM, RSA, no passphrase, "RSA PRIVATE KEY" headers), written aside and
    moved into place, so a concurrent run never sees half a pair."""
    base = Path.home() / ".ansible" / "test"
    key, pub = base / "id_rsa", base / "id_rsa.pub"
    if key.is_file() and pub.is_file():
        return
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".id_rsa.{os.getpid()}"
    subprocess.run(["ssh-keygen", "-m", "PEM", "-q", "-t", "rsa", "-N", "", "-f", str(tmp)], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)
    tmp.write_text(re.sub(r"(BEGIN|END) PRIVATE KEY", r"\1 RSA PRIVATE KEY", tmp.read_text()))
    os.replace(f"{tmp}.pub", pub)
    os.replace(tmp, key)
    say(f"ansible-test's SSH key pair made once for all cells: {key}")


def core_venv(line: str) -> Path:
    """One venv per ansible-core line, keyed on what it holds; created once, reused by warm runs."""
    release, py = CORE_LINES[line]
    key = hashlib.sha256(" ".join((release, py, *TARGET_PACKAGES)).encode()).hexdigest()[:10]
    venv = CACHE / f"venv-core{line}-py{py}-{key}"
    if (venv / ".complete").exists():
        return venv
    CACHE.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(venv, ignore_errors=True)  # a venv is not relocatable: built in place, marked complete at the end
    t0 = time.monotonic()
    subprocess.run([str(pyenv_python(py)), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"ansible-core=={release}", *TARGET_PACKAGES], check=True)
    (venv / ".complete").write_text(release + "\n")
    say(f"venv for ansible-core {release} on Python {py}: {venv} ({time.monotonic() - t0:.0f}s)")
    return venv


def stage(dest: Path) -> Path:
    coll = dest / "ansible_collections" / "llmops" / "ollama"
    subprocess.run([str(REPO / "tools" / "stage.sh"), str(coll)], check=True)
    return coll


def env_with(venv: Path, extra_path: list[Path] | None = None) -> dict:
    env = dict(os.environ)
    path = [str(venv / "bin")] + [str(p) for p in (extra_path or [])]
    env["PATH"] = ":".join(path + [env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONPATH", None)
    env["ANSIBLE_LINT_SKIP_SCHEMA_UPDATE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


# --------------------------------------------------------------------------------------------- cells

class Cell:
    def __init__(self, kind: str, core: str, ollama: str | None = None, targets: list[str] | None = None,
                 python: str | None = None, part: str = ""):
        self.kind = kind                    # "integration" or "units"
        self.part = part                    # a heavy target run as a cell of its own (in parallel with the rest)
        self.core = core
        self.ollama = ollama
        self.targets = targets or []
        self.python = python or CORE_LINES[core][1]
        self.status = "NOT RUN"
        self.passed = 0
        self.failed = 0
        self.failures: list[str] = []
        self.flaky: list[str] = []          # targets that passed only on a second attempt
        self.seconds = 0.0
        self.cpu: dict[str, float] = {}     # target (or "units") -> CPU seconds of its test-side processes
        self.log: Path | None = None
        self.note = ""

    @property
    def name(self) -> str:
        if self.kind == "units":
            return f"units-py{self.python}-core{self.core}"
        return f"core{self.core}-py{self.python}-ollama{self.ollama}" + (f"-{self.part}" if self.part else "")


def _line_key(line: str) -> tuple:
    return tuple(int(part) for part in line.split("."))


def all_targets() -> list[str]:
    return sorted(p.name for p in (REPO / "tests" / "integration" / "targets").iterdir() if p.is_dir())


def plan(mode: str, only: str | None) -> list[Cell]:
    targets = all_targets()
    modules = [t for t in targets if not t.startswith("role_")]
    cells: list[Cell] = []
    if mode == "ci":
        # Every line the collection claims runs every target on the newest Ollama (what a new user installs),
        # the heavy install-path targets only on the oldest, pinned and newest line; the version-sensitive module
        # targets on every older Ollama; the unit tests on the oldest and newest managed-node Python.
        # `make matrix` runs the whole cross product.
        lines = sorted(CORE_LINES, key=_line_key)
        edges = {lines[0], VERSIONS_CORE, lines[-1]}
        for line in lines:
            mine = [t for t in targets
                    if t in CI_EVERY_LINE_TARGETS or (line in edges and t in CI_EDGE_TARGETS) or line == VERSIONS_CORE]
            # The long targets get cells of their own (own rig), so they run beside the rest, not after it.
            heavy = [t for group in CI_OWN_CELL_GROUPS for t in group]
            cells.append(Cell("integration", line, OLLAMA_NEWEST, [t for t in mine if t not in heavy]))
            for group in CI_OWN_CELL_GROUPS:
                if any(t in mine for t in group):
                    cells.append(Cell("integration", line, OLLAMA_NEWEST, [t for t in group if t in mine],
                                      part="+".join(t for t in group if t in mine)))
        for version in OLLAMA_VERSIONS:
            if version != OLLAMA_NEWEST:
                cells.append(Cell("integration", VERSIONS_CORE, version,
                                  [t for t in modules if t in CI_VERSION_TARGETS]))
        for py in UNIT_PYTHONS_CI:
            cells.append(Cell("units", VERSIONS_CORE, python=py))
    else:
        for line in CORE_LINES:
            for version in OLLAMA_VERSIONS:
                cells.append(Cell("integration", line, version, targets))
        for py in UNIT_PYTHONS_FULL:
            cells.append(Cell("units", VERSIONS_CORE, python=py))
    if only:
        cells = [c for c in cells if re.search(only, c.name)]
    return cells


def run_logged(cmd: list[str], log: Path, env: dict, cwd: Path, timeout: float, cpu: list | None = None) -> int:
    """Run cmd with its output appended to log; its exit status (124 on timeout). With cpu, appends the CPU
    seconds (user + system) the command and every descendant it waited for used: what a cell costs the machine,
    which wall time on a shared 2-core box does not tell (the rig's daemons run in their own sessions and are
    not counted)."""
    with open(log, "a") as f:
        f.write(f"\n==== {time.strftime('%F %T')} {' '.join(cmd)} (cwd {cwd})\n")
        f.flush()
        proc = subprocess.Popen(cmd, env=env, cwd=str(cwd), stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = 124
                f.write(f"\n==== TIMEOUT after {timeout:.0f}s\n")
                break
            time.sleep(0.2)
        if cpu is not None:
            cpu.append(usage.ru_utime + usage.ru_stime)
        return proc.returncode


def failure_excerpt(log: Path, start: int, width: int = 240, lines: int = 14) -> str:
    """'it said:' and the task that failed, from the part of log written since byte offset start: its TASK header
    and the lines from the last 'fatal:'/'FAILED!' on, shortened, indented. CI keeps the console, not the matrix's
    work directory, so the reason for a red cell has to be on the console."""
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace").splitlines()
    marks = [i for i, line in enumerate(text) if line.startswith("fatal:") or "FAILED!" in line or "ERROR! " in line]
    if not marks:
        shown = text[-lines:]
    else:
        last = marks[-1]
        header = next((text[i] for i in range(last, -1, -1) if text[i].startswith("TASK [")), None)
        shown = ([header] if header else []) + text[last:last + lines]
    return "it said:" + "".join(f"\n  {line[:width]}" + (" [...]" if len(line) > width else "") for line in shown)


def run_integration(cell: Cell, work: Path, venv: Path) -> None:
    coll = stage(work / "stage")
    config = coll / "tests" / "integration" / "integration_config.yml"
    env = env_with(venv)
    env["LLMOPS_RIG_STATE"] = str(work / "rig")
    env["LLMOPS_RIG_INTEGRATION_CONFIG"] = str(config)
    env["LLMOPS_RIG_OLLAMA_VERSION"] = cell.ollama
    env["CI"] = env.get("CI", "true")
    rig = [sys.executable, str(RIG), "--ollama-version", cell.ollama]
    try:
        if run_logged(rig + ["up"], cell.log, env, REPO, 3600) != 0 or not config.is_file():
            cell.note = "rig up failed"
            cell.failures = list(cell.targets)
            cell.failed = len(cell.targets)
            return
        src_inventory = REPO / "tests" / "integration" / "inventory"
        if src_inventory.exists():
            shutil.copy2(src_inventory, coll / "tests" / "integration" / "inventory")
        for target in cell.targets:
            t0 = time.monotonic()
            command = ["ansible-test", "integration", "--local", "--python", cell.python, "-v", "--color", "no", target]
            cpu: list = []
            offset = cell.log.stat().st_size
            rc = run_logged(command, cell.log, env, coll, 1800, cpu)
            for attempt in range(RETRIES):
                if rc == 0:
                    break
                # A real server under a loaded CI machine can fail for reasons of its own (an old Ollama's runner
                # once exited with status 2 while three rigs loaded models at once). One more attempt, and the
                # flake stays visible: a FLAKY line, the cell's note and the table say which target needed it.
                say(f"{cell.name}: {target} FAILED on attempt {attempt + 1} (exit {rc}); running it again; "
                    + failure_excerpt(cell.log, offset))
                offset = cell.log.stat().st_size
                rc = run_logged(command, cell.log, env, coll, 1800, cpu)
                if rc == 0:
                    cell.flaky.append(target)
                    say(f"FLAKY: {cell.name}: {target} passed only on attempt {attempt + 2} (log {cell.log})")
            dt = time.monotonic() - t0
            cell.cpu[target] = sum(cpu)
            if rc == 0:
                cell.passed += 1
                say(f"{cell.name}: {target} passed ({dt:.0f}s, cpu {sum(cpu):.0f}s)")
            else:
                cell.failed += 1
                cell.failures.append(target)
                say(f"{cell.name}: {target} FAILED (exit {rc}, {dt:.0f}s, cpu {sum(cpu):.0f}s; log {cell.log}); "
                    + failure_excerpt(cell.log, offset))
    finally:
        run_logged(rig + ["down"], cell.log, env, REPO, 300)


def run_units(cell: Cell, work: Path, venv: Path) -> None:
    coll = stage(work / "stage")
    interp = pyenv_python(cell.python)
    env = env_with(venv, [interp.parent])
    rc = run_logged([str(venv / "bin" / "python"), str(REPO / "tools" / "install_get_pip.py"), "--python", cell.python],
                    cell.log, env, REPO, 600)
    if rc == 0:
        cpu: list = []
        rc = run_logged([str(REPO / "tools" / "units.sh"), cell.python, "-v", "--color", "no"], cell.log, env, coll,
                        3600, cpu)
        cell.cpu["units"] = sum(cpu)
    text = cell.log.read_text(errors="replace")
    counts = re.findall(r"^=+ (.*) in [0-9.]+s", text, re.M)
    cell.passed = sum(int(n) for line in counts for n in re.findall(r"(\d+) passed", line))
    cell.failed = sum(int(n) for line in counts for n in re.findall(r"(\d+) (?:failed|error)", line))
    if rc != 0 and cell.failed == 0:
        cell.failed = 1
        cell.failures.append(f"ansible-test units exit {rc}")
    elif cell.failed:
        cell.failures.append(f"{cell.failed} unit tests")


def run_cell(cell: Cell, root: Path) -> Cell:
    work = root / cell.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cell.log = root / f"{cell.name}.log"
    cell.log.write_text("")
    t0 = time.monotonic()
    say(f"{cell.name}: start ({', '.join(cell.targets) if cell.targets else 'unit tests'}); log {cell.log}")
    try:
        venv = core_venv(cell.core)
        if cell.kind == "units":
            run_units(cell, work, venv)
        else:
            run_integration(cell, work, venv)
    except Exception as exc:  # a cell that could not run is a failed cell, never a pass
        cell.note = f"{type(exc).__name__}: {exc}"
        cell.failed = max(cell.failed, 1)
    cell.seconds = time.monotonic() - t0
    ran_all = cell.kind == "units" or cell.passed + cell.failed == len(cell.targets)
    if cell.failed == 0 and cell.passed > 0 and ran_all:
        cell.status = "passed"
    else:
        cell.status = "FAILED"
    what = f"{cell.passed} passed, {cell.failed} failed"
    extra = f"; {cell.note}" if cell.note else ""
    extra += f"; failed: {', '.join(cell.failures)}" if cell.failures else ""
    extra += f"; FLAKY (passed on a second attempt): {', '.join(cell.flaky)}" if cell.flaky else ""
    with PRINT_LOCK:
        print(f"MATRIX-CELL: {cell.name} {cell.status} ({what}, {cell.seconds:.0f}s{extra})", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return cell


# --------------------------------------------------------------------------------------------- report

def table(cells: list[Cell]) -> str:
    integ = [c for c in cells if c.kind == "integration"]
    versions = [v for v in OLLAMA_VERSIONS if any(c.ollama == v for c in integ)]
    lines = []
    if integ:
        head = ["ansible-core (controller Python)"] + [f"Ollama {v}" for v in versions]
        rows = []
        for line in CORE_LINES:
            row = [f"{CORE_LINES[line][0]} (Python {CORE_LINES[line][1]})"]
            used = False
            for v in versions:
                match = [c for c in integ if c.core == line and c.ollama == v]
                if not match:
                    row.append("-")
                    continue
                used = True
                # A (line, version) may be run as several cells (heavy targets in their own, to run in parallel).
                targets = sorted(t for c in match for t in c.targets)
                passed = sum(c.passed for c in match)
                failures = [f for c in match for f in (c.failures or ([c.note] if c.status == "FAILED" else []))]
                flaky_all = [t for c in match for t in c.flaky]
                seconds = max(c.seconds for c in match)
                modules = [t for t in all_targets() if not t.startswith("role_")]
                scope = ("all targets" if targets == all_targets() else "module targets" if targets == modules
                         else ", ".join(targets))
                if all(c.status == "passed" for c in match):
                    flaky = f"; flaky: {', '.join(flaky_all)}" if flaky_all else ""
                    row.append(f"pass: {scope} {passed}/{len(targets)} ({seconds:.0f}s{flaky})")
                elif all(c.status == "NOT RUN" for c in match):
                    row.append("NOT RUN")
                else:
                    row.append(f"FAIL: {', '.join(failures) or 'not run'} ({passed}/{len(targets)})")
            if used:
                rows.append(row)
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        fmt = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
        lines.append(fmt.format(*head))
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        lines += [fmt.format(*r) for r in rows]
    for c in cells:
        if c.kind == "units":
            status = "pass" if c.status == "passed" else c.status
            lines.append(f"unit tests, Python {c.python} (ansible-core {CORE_LINES[c.core][0]}): {status}, "
                         f"{c.passed} passed, {c.failed} failed ({c.seconds:.0f}s)")
    return "\n".join(lines)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat): with the test-side
    figures it says whether CI is bound by the machine's cores (more parallel cells would not help) or by waiting."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / hz, sum(fields[:8]) / hz


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("mode", choices=["ci", "full", "list", "prepare"],
                   help="ci: the CI subset; full: the cross product; list: print the CI cells; prepare: venvs + "
                        "Ollama builds only")
    p.add_argument("--full", action="store_true", help="with list/prepare: the full cross product")
    p.add_argument("--jobs", type=int, default=int(os.environ.get("LLMOPS_MATRIX_JOBS") or 3),
                   help="cells run at the same time (default $LLMOPS_MATRIX_JOBS or 3)")
    p.add_argument("--only", help="regular expression: run only the cells whose name matches")
    p.add_argument("--targets",
                   help="regular expression: run only the integration targets that match (reruns; such a cell counts "
                        "only its targets)")
    p.add_argument("--work", default=os.environ.get("LLMOPS_MATRIX_WORK"),
                   help="directory for staged copies and logs (default: a new directory under /tmp)")
    args = p.parse_args(argv)
    mode = "full" if args.mode == "full" or args.full else "ci"
    cells = plan(mode, args.only)
    if args.targets:
        for c in cells:
            c.targets = [t for t in c.targets if re.search(args.targets, t)]
        cells = [c for c in cells if c.kind == "units" or c.targets]
    if args.mode == "list":
        for c in cells:
            print(c.name, " ".join(c.targets))
        return 0
    t_start = time.monotonic()
    cpu_start = machine_cpu()
    # Builds and venvs first, one at a time (they need the cores, and each has its own lock).
    for version in sorted({c.ollama for c in cells if c.ollama}, key=lambda v: v != OLLAMA_NEWEST):
        t0 = time.monotonic()
        rc = subprocess.run([sys.executable, str(RIG), "--ollama-version", version, "build"], check=False).returncode
        say(f"ollama {version}: build/cache check exit {rc} ({time.monotonic() - t0:.0f}s)")
    for line in sorted({c.core for c in cells}):
        core_venv(line)
    ansible_test_ssh_key()
    say(f"prepared in {time.monotonic() - t_start:.0f}s")
    if args.mode == "prepare":
        return 0
    if args.work:
        root = Path(args.work)
    else:
        root = Path(subprocess.check_output(["mktemp", "-d", "/tmp/llmops-matrix.XXXXXX"], text=True).strip())
    root.mkdir(parents=True, exist_ok=True)
    say(f"{len(cells)} cells, {args.jobs} at a time; logs in {root}")
    # Longest first (rough relative cost of each target), so the long cells do not start last; unit tests last.
    order = sorted(cells, key=lambda c: (c.kind != "integration", -sum(TARGET_WEIGHT.get(t, 1) for t in c.targets)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(lambda c: run_cell(c, root), order))
    total = time.monotonic() - t_start
    print()
    print(f"=== matrix ({mode}): ansible-core x Ollama, real server (tests/rig/rig.py)")
    print(table(cells))
    ok = [c for c in cells if c.status == "passed"]
    bad = [c for c in cells if c.status == "FAILED"]
    not_run = [c for c in cells if c.status == "NOT RUN"]
    tests_passed = sum(c.passed for c in cells)
    tests_failed = sum(c.failed for c in cells) + sum(len(c.targets) or 1 for c in not_run)
    (root / "matrix.json").write_text(json.dumps([{
        "cell": c.name, "kind": c.kind, "core": CORE_LINES[c.core][0], "python": c.python, "ollama": c.ollama,
        "targets": c.targets, "status": c.status, "passed": c.passed, "failed": c.failed, "failures": c.failures,
        "seconds": round(c.seconds), "cpu_seconds": {k: round(v) for k, v in c.cpu.items()}, "note": c.note}
        for c in cells], indent=2) + "\n")
    # Where the machine's time goes, summed over the cells: what to make cheaper when CI grows (wall times on a
    # shared box mostly measure the neighbours).
    by_target: dict[str, float] = {}
    for c in cells:
        for target, seconds in c.cpu.items():
            by_target[target] = by_target.get(target, 0.0) + seconds
    if by_target:
        ranked = sorted(by_target.items(), key=lambda kv: -kv[1])
        print("matrix cpu (test-side processes, all cells): " + ", ".join(f"{t} {v:.0f}s" for t, v in ranked)
              + f"; total {sum(by_target.values()):.0f}s")
    busy, total_cpu = (b - a for a, b in zip(cpu_start, machine_cpu()))
    if total_cpu > 10:
        print(f"machine cpu during the matrix: {100 * busy / total_cpu:.0f}% busy ({busy:.0f}s of {total_cpu:.0f}s "
              f"on {os.cpu_count()} cores; test-side {sum(by_target.values()):.0f}s, the rest the servers, rigs and "
              f"anything else running)")
    print(f"matrix: {tests_passed} passed, {tests_failed} failed (tests); {len(ok)} cells ok, {len(bad)} cells failed, "
          f"{len(not_run)} cells not run; {total:.0f}s")
    return 0 if ok and not bad and not not_run else 1


if __name__ == "__main__":
    sys.exit(main())
