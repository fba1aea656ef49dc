# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: what llmops.ollama costs next to the patterns people use instead, measured on the real rig.

    python tools/bench.py              the full bench (N = 3, 10, 20; K = 1, 4, 8; --pairs rounds, default 3)
    python tools/bench.py --quick      N = 3, one round, K = 1: checks that the bench still runs (CI)

Run it with the Python of the repo's .venv (it runs that venv's ansible-playbook). It

1. starts its own rig (tests/rig/rig.py up --fresh, state under tests/output/bench/rig) and stages the collection;
2. puts a counting proxy (tests/rig/counting_proxy.py) in front of the Ollama server and one in front of the
   registry front, and uses model names through the registry proxy, so every request the module, the Ollama CLI,
   `uri` or Ollama itself sends is counted, and the registry can be given a delay per request;
3. runs each benchmark as interleaved rounds (A B C ... A B C ...) inside one ansible-playbook per phase: a
   callback plugin (tools/bench_plugins/callback/bench_timer.py) times each measured task from its start to its
   last host result and reads the proxies' counts; the module's peak RSS comes from an interpreter wrapper
   (tools/bench_plugins/rss_wrapper.py);
4. prints a Markdown table: per variant the median seconds, the median of the per-round ratios to the group's
   baseline with min and max, and the requests to Ollama and to the registry; then the module's peak RSS per
   pulled model and the goals; and stops the rig.

Timings on a shared machine are noisy: read the ratios of the same round, not the absolute seconds. Exit status
is 1 when a measured task failed (the bench is broken), not when a goal is missed. The table and all records
land in tests/output/bench/ (bench.md, bench.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "rig"))

from counting_proxy import ControlServer, CountingProxy  # noqa: E402  pylint: disable=wrong-import-position
from serve_pool import Fleet  # noqa: E402  pylint: disable=wrong-import-position

RIG = REPO / "tests" / "rig" / "rig.py"
PLUGINS = REPO / "tools" / "bench_plugins"
GEMMA_REPO, GEMMA_TAG, VARIANT_TAG = "library/gemma3", "270m", "270m-variant"
MINILM_REPO, MINILM_TAG = "library/all-minilm", "l6-v2"
DELAY_MS = 100
LATEST_GOAL = 1.5
RSS_GOAL = 0.10

# Variant labels as the table shows them.
OURS = "ollama_model"
CLI_LOOP = "command: ollama pull (loop)"
URI_LOOP = "uri POST /api/pull (loop)"
FLOOR = "floor: uri GET /api/tags"
CLI = "ollama pull (CLI)"
URI_PULL = "uri POST /api/pull"
PRESENT = "state=present"
LATEST_SAME = "state=latest, nothing changed"
LATEST_ONE = "state=latest, one changed"


def log(message):
    print(f"[bench] {message}", flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.pairs = 1 if args.quick else args.pairs
        self.ns = (3,) if args.quick else (3, 10, 20)
        self.latest_n = 3 if args.quick else 20
        self.fleet_ks = (1,) if args.quick else (1, 4, 8)
        self.fleet_n = 3 if args.quick else 10
        self.work = Path(args.work).resolve()
        self.logs = self.work / "logs"
        self.rig_env = dict(os.environ, LLMOPS_RIG_STATE=str(self.work / "rig"),
                            LLMOPS_RIG_INTEGRATION_CONFIG=str(self.work / "integration_config.yml"))
        if args.ollama_version:
            self.rig_env["LLMOPS_RIG_OLLAMA_VERSION"] = args.ollama_version
        self.cfg = {}
        self.proxies = []
        self.control = None
        self.fleet = None
        self.records = []
        self.bench01_variant = False  # what the server has under bench-01: the 270m manifest or the variant's
        self.rig_up = False

    # ------------------------------------------------------------------ setup

    def rig(self, *argv, check=True, quiet=False):
        out = subprocess.DEVNULL if quiet else None
        return subprocess.run([sys.executable, str(RIG), *argv], env=self.rig_env, check=check, stdout=out)

    def setup(self):
        self.work.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        for old in self.logs.glob("*"):
            old.unlink()
        log("starting the rig (tests/rig/rig.py up --fresh)")
        self.rig_up = True
        self.rig("up", "--fresh")
        self.cfg = json.loads((self.work / "rig" / "rig.json").read_text())
        stage = self.work / "stage" / "ansible_collections" / "llmops" / "ollama"
        subprocess.run([str(REPO / "tools" / "stage.sh"), str(stage)], check=True)
        self.collections = self.work / "stage"
        ollama = CountingProxy("ollama", self.cfg["ollama_url"]).start()
        registry = CountingProxy("registry", "http://" + self.cfg["ollama_registry"]).start()
        self.proxies = [ollama, registry]
        self.control = ControlServer(self.proxies).start()
        self.reg = registry.netloc
        self.hosts = {"h1": ollama.url}
        log(f"Ollama {self.cfg.get('ollama_version')} at {self.cfg['ollama_url']} counted through {ollama.url}; "
            f"registry front {self.cfg['ollama_registry']} counted through {registry.url}")
        self.rss_python = self.work / "rss-python"
        self.rss_python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{PLUGINS / "rss_wrapper.py"}" "$@"\n')
        self.rss_python.chmod(0o755)

    def api(self, path, body=None, method=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.cfg["ollama_url"] + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=900) as resp:
            return resp.read()

    def name(self, repo, tag):
        return f"{self.reg}/{repo}:{tag}"

    def bench_names(self, count):
        return [self.name(GEMMA_REPO, f"bench-{index:02d}") for index in range(1, count + 1)]

    def make_names(self, count):
        """``count`` distinct registry tags (copies of the 270m manifest), each pulled once onto the server."""
        log(f"creating {count} registry tags library/gemma3:bench-NN and pulling them (setup, not measured)")
        for name in self.bench_names(count):
            self.rig("retag", GEMMA_TAG, name.rsplit(":", 1)[1], "--repo", GEMMA_REPO, quiet=True)
            self.api("/api/pull", {"model": name, "insecure": True, "stream": False})

    # ------------------------------------------------------------------ tasks

    @staticmethod
    def order(rnd, items):
        """A B C in even rounds, C B A in odd ones, so a drift of the machine's load favours no variant."""
        items = list(items)
        return items if rnd % 2 == 0 else items[::-1]

    def warm_up(self):
        """Unmeasured: one run of every module the measured tasks use, so none pays for building its AnsiballZ."""
        return [
            {"name": "setup|warm-up ollama_model", "llmops.ollama.ollama_model": {
                "url": "{{ bench_ollama_url }}", "name": [self.name(GEMMA_REPO, "not-there")], "state": "absent"}},
            {"name": "setup|warm-up uri", "ansible.builtin.uri": {"url": "{{ bench_ollama_url }}/api/version"}},
            {"name": "setup|warm-up command", "ansible.builtin.command": {"argv": ["{{ bench_ollama_bin }}",
                                                                                   "--version"]},
             "changed_when": False},
        ]

    @staticmethod
    def t_ours(label, names, state="present", rss=False):
        task = {"name": label, "llmops.ollama.ollama_model": {
            "url": "{{ bench_ollama_url }}", "name": names, "state": state, "insecure": True}}
        if rss:
            task["vars"] = {"ansible_python_interpreter": "{{ bench_rss_python }}"}
        return task

    @staticmethod
    def t_cli(label, names):
        argv = ["{{ bench_ollama_bin }}", "pull", "--insecure", "{{ item }}"]
        return {"name": label, "ansible.builtin.command": {"argv": argv},
                "environment": {"OLLAMA_HOST": "{{ bench_ollama_url }}"}, "loop": names, "changed_when": False}

    @staticmethod
    def t_uri(label, names):
        return {"name": label, "ansible.builtin.uri": {
            "url": "{{ bench_ollama_url }}/api/pull", "method": "POST", "body_format": "json",
            "body": {"model": "{{ item }}", "insecure": True, "stream": False}, "timeout": 900},
            "loop": names}

    @staticmethod
    def t_floor(label):
        return {"name": label, "ansible.builtin.uri": {"url": "{{ bench_ollama_url }}/api/tags"}}

    @staticmethod
    def t_delay(millis):
        return {"name": f"setup|registry delay {millis} ms",
                "ansible.builtin.uri": {"url": f"{{{{ bench_control_url }}}}/delay/registry/{millis}"}}

    @staticmethod
    def t_delete(name):
        return {"name": f"setup|delete {name}", "ansible.builtin.uri": {
            "url": "{{ bench_ollama_url }}/api/delete", "method": "DELETE", "body_format": "json",
            "body": {"model": name}, "status_code": [200, 404]}}

    def t_retag(self, src, tag):
        return {"name": f"setup|registry {GEMMA_REPO}:{tag} := {src}", "ansible.builtin.command": {
            "argv": [sys.executable, str(RIG), "retag", src, tag, "--repo", GEMMA_REPO]}, "changed_when": True}

    # ------------------------------------------------------------------ phases

    def phase_pull(self):
        """Pulls from nothing: ours, the CLI, uri; each after deleting the model (no other name shares its blobs)."""
        for item in json.loads(self.api("/api/tags"))["models"]:
            self.api("/api/delete", {"model": item["name"]}, method="DELETE")
        models = [("pull 46 MB (all-minilm)", self.name(MINILM_REPO, MINILM_TAG)),
                  ("pull 253 MB (gemma3:270m)", self.name(GEMMA_REPO, GEMMA_TAG))]
        tasks = []
        for rnd in range(self.pairs):
            for group, name in models:
                for variant, make in self.order(rnd, ((CLI, self.t_cli), (OURS, None), (URI_PULL, self.t_uri))):
                    tasks.append(self.t_delete(name))
                    label = f"bench|{group}|{variant}|{rnd}"
                    tasks.append(self.t_ours(label, [name], rss=True) if make is None else make(label, [name]))
            # The module's RSS when it pulls nothing, for scale (both models are installed now).
            tasks.append(self.t_ours(f"bench|rss, no pull|{OURS}|{rnd}", [name for dummy, name in models], rss=True))
        self.playbook("pull", [self.play("h1", self.warm_up() + tasks)])

    def phase_converge(self):
        tasks = []
        for rnd in range(self.pairs):
            for millis in (0, DELAY_MS):
                tasks.append(self.t_delay(millis))
                suffix = f" +{millis} ms registry" if millis else ""
                for count in self.ns:
                    names = self.bench_names(count)
                    group = f"no-change converge N={count}{suffix}"
                    tasks += self.order(rnd, (self.t_ours(f"bench|{group}|{OURS}|{rnd}", names),
                                              self.t_cli(f"bench|{group}|{CLI_LOOP}|{rnd}", names),
                                              self.t_uri(f"bench|{group}|{URI_LOOP}|{rnd}", names),
                                              self.t_floor(f"bench|{group}|{FLOOR}|{rnd}")))
        tasks.append(self.t_delay(0))
        self.playbook("converge", [self.play("h1", self.warm_up() + tasks)])

    def phase_latest(self):
        names = self.bench_names(self.latest_n)
        changed_tag = names[0].rsplit(":", 1)[1]
        tasks = []
        for rnd in range(self.pairs):
            for millis in ((DELAY_MS,) if self.quick else (0, DELAY_MS)):
                tasks.append(self.t_delay(millis))
                group = f"latest N={self.latest_n}" + (f" +{millis} ms registry" if millis else "")
                # Before "one changed" the registry serves the other manifest under bench-01: one model changed.
                self.bench01_variant = not self.bench01_variant
                one = [self.t_retag(VARIANT_TAG if self.bench01_variant else GEMMA_TAG, changed_tag),
                       self.t_ours(f"bench|{group}|{LATEST_ONE}|{rnd}", names, state="latest")]
                for step in self.order(rnd, ([self.t_ours(f"bench|{group}|{PRESENT}|{rnd}", names)],
                                             [self.t_ours(f"bench|{group}|{LATEST_SAME}|{rnd}", names, state="latest")],
                                             one)):
                    tasks += step
        tasks.append(self.t_delay(0))
        self.playbook("latest", [self.play("h1", self.warm_up() + tasks)])

    def phase_fleet(self):
        extra = max(self.fleet_ks) - 1
        if extra:
            log(f"starting {extra} more Ollama servers on the rig's models dir (tests/rig/serve_pool.py)")
            self.fleet = Fleet(self.cfg["ollama_bin"], self.cfg["ollama_models_dir"], self.work / "rig")
            for index, url in enumerate(self.fleet.start(extra), start=2):
                proxy = CountingProxy(f"ollama-{index}", url).start()
                self.proxies.append(proxy)
                self.control.add(proxy)
                self.hosts[f"h{index}"] = proxy.url
        names = self.bench_names(self.fleet_n)
        plays = [self.play("h1", self.warm_up())]
        for rnd in range(self.pairs):
            for k in self.order(rnd, self.fleet_ks):
                group = f"fleet, no-change N={self.fleet_n} on K hosts, forks=K"
                plays.append(self.play(f"fleet{k}", [self.t_ours(f"bench|{group}|K={k}|{rnd}", names)]))
        self.playbook("fleet", plays)

    # ------------------------------------------------------------------ running

    @staticmethod
    def play(hosts, tasks):
        return {"name": f"bench on {hosts}", "hosts": hosts, "gather_facts": False, "tasks": tasks}

    def inventory(self):
        hosts = {host: {"bench_ollama_url": url} for host, url in self.hosts.items()}
        groups = {f"fleet{k}": {"hosts": {f"h{i}": None for i in range(1, k + 1) if f"h{i}" in hosts}}
                  for k in self.fleet_ks}
        return {"all": {"hosts": hosts, "children": groups, "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "bench_ollama_bin": self.cfg["ollama_bin"],
            "bench_rss_python": str(self.rss_python),
            "bench_control_url": self.control.url,
        }}}

    def playbook(self, phase, plays):
        measured = sum(1 for play in plays for task in play["tasks"] if task["name"].startswith("bench|"))
        book = self.work / f"{phase}.yml"
        inv = self.work / f"inventory-{phase}.yml"
        results = self.logs / f"{phase}.jsonl"
        book.write_text(json.dumps(plays, indent=1))
        inv.write_text(json.dumps(self.inventory(), indent=1))
        env = dict(self.rig_env, ANSIBLE_COLLECTIONS_PATH=str(self.collections),
                   ANSIBLE_CALLBACK_PLUGINS=str(PLUGINS / "callback"), ANSIBLE_CALLBACKS_ENABLED="bench_timer",
                   ANSIBLE_FORKS=str(max(self.fleet_ks)), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0",
                   BENCH_RESULTS=str(results), BENCH_CONTROL_URL=self.control.url,
                   BENCH_RSS_FILE=str(self.work / "rss.jsonl"))
        playbook_bin = Path(sys.executable).parent / "ansible-playbook"
        out = self.logs / f"{phase}.log"
        log(f"phase {phase}: {measured} measured tasks (ansible-playbook {book.name}, log {out})")
        started = time.monotonic()
        with open(out, "w", encoding="utf-8") as fh:
            status = subprocess.run([str(playbook_bin), "-i", str(inv), str(book)], env=env, cwd=self.work,
                                    stdout=fh, stderr=subprocess.STDOUT, check=False).returncode
        found = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
        self.records.extend(found)
        log(f"phase {phase}: {len(found)} tasks measured in {time.monotonic() - started:.0f}s")
        if status != 0 or len(found) != measured or any(rec["failed"] for rec in found):
            tail = out.read_text().splitlines()[-30:]
            raise RuntimeError(f"phase {phase}: ansible-playbook exited {status}, {len(found)}/{measured} tasks "
                               "measured; last lines of its log:\n" + "\n".join(tail))

    def teardown(self):
        if self.fleet is not None:
            self.fleet.stop()
        for proxy in self.proxies:
            proxy.stop()
        if self.control is not None:
            self.control.stop()
        if self.rig_up:
            log("stopping the rig (tests/rig/rig.py down)")
            self.rig("down", check=False)


# ---------------------------------------------------------------------------------------------------- report

BASELINES = {"pull": CLI, "latest": PRESENT, "fleet": "K=1"}


def baseline_of(group):
    return BASELINES.get(group.split(" ", 1)[0].rstrip(","), OURS)


def requests_of(record):
    counts = record["counts"] or {}
    ollama = {}
    for name, snap in counts.items():
        if name.startswith("ollama"):
            for kind, value in snap["by_kind"].items():
                ollama[kind] = ollama.get(kind, 0) + value
    registry = (counts.get("registry") or {"total": 0, "by_kind": {}})
    return {"ollama": sum(ollama.values()), "registry": registry["total"], "pulls": ollama.get("POST /api/pull", 0),
            "tags": ollama.get("GET /api/tags", 0), "ollama_kinds": ollama, "registry_kinds": registry["by_kind"]}


def spread(values):
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def summarize(records):
    """{group: {variant: {"seconds": [...], "ratios": [...], "requests": [...], "rss_kb": [...]}}} in run order."""
    groups = {}
    for rec in records:
        dummy, group, variant, rnd = rec["name"].split("|")
        slot = groups.setdefault(group, {}).setdefault(variant, {"rounds": {}, "requests": [], "rss_kb": []})
        slot["rounds"][int(rnd)] = rec["seconds"]
        slot["requests"].append(requests_of(rec))
        slot["rss_kb"].extend(rec.get("rss_kb") or [])
    for group, variants in groups.items():
        base = variants.get(baseline_of(group), {}).get("rounds", {})
        for slot in variants.values():
            slot["seconds"] = [slot["rounds"][r] for r in sorted(slot["rounds"])]
            slot["ratios"] = [slot["rounds"][r] / base[r] for r in sorted(slot["rounds"]) if base.get(r)]
    return groups


def table(groups):
    lines = ["| benchmark | variant | median s | ratio to baseline: median (min-max) | requests to Ollama | "
             "to the registry | pulls |", "|---|---|---|---|---|---|---|"]
    for group, variants in groups.items():
        if group.startswith("rss"):
            continue
        base = baseline_of(group)
        for variant, slot in variants.items():
            ratios = slot["ratios"]
            ratio = "baseline" if variant == base else (
                f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else "-")
            reqs = slot["requests"]
            lines.append(f"| {group} | {variant} | {statistics.median(slot['seconds']):.2f} | {ratio} | "
                         f"{spread([r['ollama'] for r in reqs])} | {spread([r['registry'] for r in reqs])} | "
                         f"{spread([r['pulls'] for r in reqs])} |")
    return lines


def kinds_lines(groups):
    """What the requests were, for the smallest N of each kind of benchmark (the others only scale)."""
    lines = ["| benchmark | variant | requests to Ollama, by kind | requests to the registry, by kind |",
             "|---|---|---|---|"]
    seen = set()
    for group, variants in groups.items():
        kind = group.split(" N=")[0].split(" +")[0]
        if kind in seen or group.startswith("rss"):
            continue
        seen.add(kind)
        for variant, slot in variants.items():
            first = slot["requests"][0]
            lines.append(f"| {group} | {variant} | "
                         f"{', '.join(f'{k} x{v}' for k, v in sorted(first['ollama_kinds'].items())) or '-'} | "
                         f"{', '.join(f'{k} x{v}' for k, v in sorted(first['registry_kinds'].items())) or '-'} |")
    return lines


def rss_lines(groups):
    rows = []
    for group, variants in groups.items():
        values = variants.get(OURS, {}).get("rss_kb") or []
        if values:
            rows.append((group, [v / 1024 for v in values]))
    lines = ["| module run | peak RSS of the module process, MiB: median (min-max) |", "|---|---|"]
    for group, mib in rows:
        lines.append(f"| {group} | {statistics.median(mib):.1f} ({min(mib):.1f}-{max(mib):.1f}) |")
    return lines, dict(rows)


def goals(groups, rss):
    lines = []
    latest = [g for g in groups if g.startswith("latest") and "registry" in g]
    for group in latest:
        same, one = groups[group].get(LATEST_SAME), groups[group].get(LATEST_ONE)
        if not same or not one:
            continue
        ratio = statistics.median(same["ratios"])
        pulls_same = {r["pulls"] for r in same["requests"]}
        pulls_one = {r["pulls"] for r in one["requests"]}
        tags_same = {r["tags"] for r in same["requests"]}
        met = ratio <= LATEST_GOAL and pulls_same == {0} and pulls_one == {1} and tags_same == {1}
        lines.append(f"- {group}: nothing changed costs {ratio:.2f}x state=present (goal <= {LATEST_GOAL}x), with "
                     f"{spread(sorted(tags_same))} GET /api/tags and {spread(sorted(pulls_same))} pulls; one changed: "
                     f"{spread(sorted(pulls_one))} pull (goal 1): {'MET' if met else 'MISSED'}")
    small = [mib for group, mib in rss.items() if group.startswith("pull 46")]
    large = [mib for group, mib in rss.items() if group.startswith("pull 253")]
    if small and large:
        ratio = statistics.median(large[0]) / statistics.median(small[0])
        met = abs(ratio - 1) <= RSS_GOAL
        lines.append(f"- module peak RSS pulling 253 MB vs 46 MB: {ratio:.3f}x (goal within {RSS_GOAL:.0%}): "
                     f"{'MET' if met else 'MISSED'}")
    return lines


def report(bench, elapsed):
    groups = summarize(bench.records)
    rss_table, rss = rss_lines(groups)
    out = [f"llmops.ollama bench ({'quick' if bench.quick else 'full'}): Ollama {bench.cfg.get('ollama_version')}, "
           f"{bench.pairs} round(s) per benchmark, {os.cpu_count()} CPUs, load average "
           f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end, {elapsed:.0f}s", ""]
    out += table(groups) + [""] + rss_table + [""] + kinds_lines(groups) + ["", "Goals:"] + goals(groups, rss)
    text = "\n".join(out) + "\n"
    (bench.work / "bench.md").write_text(text)
    (bench.work / "bench.json").write_text(json.dumps({"records": bench.records, "summary": groups}, indent=1,
                                                      default=str))
    print(text, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="N=3, one round, K=1: a smoke run for CI")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved rounds per benchmark (default 3)")
    parser.add_argument("--work", default=str(REPO / "tests" / "output" / "bench"), help="state, logs and results")
    parser.add_argument("--ollama-version", help="the rig's Ollama version (default: the rig's default)")
    parser.add_argument("--only", default="pull,converge,latest,fleet",
                        help="comma-separated phases to run (default: pull,converge,latest,fleet)")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.only.split(",") if p.strip()]
    bench = Bench(args)
    started = time.monotonic()
    try:
        bench.setup()
        if "pull" in phases:
            bench.phase_pull()
        bench.make_names(max(bench.ns + (bench.latest_n, bench.fleet_n)))
        for phase in ("converge", "latest", "fleet"):
            if phase in phases:
                getattr(bench, f"phase_{phase}")()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        log(f"FAILED: {exc}")
        if bench.records:
            report(bench, time.monotonic() - started)
        return 1
    finally:
        bench.teardown()
    report(bench, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
