"""The command line of tests/rig/rig.py: global options, sub-commands, exit status."""

from __future__ import annotations

import argparse
import os
import sys
import time

import systemd_hosts  # tests/rig/systemd_hosts.py: rig.py hosts-up / hosts-down / hosts ...
from riglib import config
from riglib.instance import (
    cmd_build,
    cmd_down,
    cmd_registry_start,
    cmd_registry_stop,
    cmd_restore,
    cmd_retag,
    cmd_status,
    cmd_up,
)
from riglib.output import log, RigError

DESCRIPTION = "Real-server test rig for the llmops.ollama collection."


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in systemd_hosts.RIG_COMMANDS:  # systemd hosts: docs/testing-rig.md
        return systemd_hosts.rig_command(argv)
    p = argparse.ArgumentParser(prog="rig.py", description=DESCRIPTION,
                                epilog="systemd test hosts: rig.py hosts-up [--count N] | hosts-down | "
                                       "hosts stop|start|exec|status|build (tests/rig/systemd_hosts.py)")
    p.add_argument("--use-path-ollama", action="store_true", help="use the ollama found on PATH")
    p.add_argument("--ollama-version", default=config.OLLAMA_VERSION, metavar="X.Y.Z",
                   help=f"Ollama version to build and run (default: $LLMOPS_RIG_OLLAMA_VERSION or "
                        f"{config.DEFAULT_OLLAMA_VERSION}; CI tests {', '.join(config.MATRIX_OLLAMA_VERSIONS)})")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build (or find) ollama --ollama-version (with llama-server from v0.30.0)")
    up = sub.add_parser("up", help="start everything (reuses a healthy rig) and write the config")
    up.add_argument("--fresh", action="store_true", help="restart even if the rig is up and healthy")
    up.add_argument("--no-verify", action="store_true",
                    help="skip the verification pulls (the test server then starts with no models)")
    sub.add_parser("down", help="stop everything")
    sub.add_parser("status", help="show what runs (exit 0 healthy, 1 down, 2 degraded)")
    sub.add_parser("registry-stop", help="stop only the registry and its nginx front")
    sub.add_parser("registry-start", help="start the registry and front again on the same ports")
    rt = sub.add_parser("retag", help="point a registry tag at another tag's manifest")
    rt.add_argument("src")
    rt.add_argument("dst")
    rt.add_argument("--repo", default="library/gemma3")
    sub.add_parser("restore", help="reset all registry tags to the original manifests")
    args = p.parse_args(argv)
    func = {"build": cmd_build, "up": cmd_up, "down": cmd_down, "status": cmd_status,
            "registry-stop": cmd_registry_stop, "registry-start": cmd_registry_start,
            "retag": cmd_retag, "restore": cmd_restore}[args.cmd]
    try:
        config.set_ollama_version(args.ollama_version)
        func(args)
    except RigError as e:
        log(f"ERROR: {e}")
        log(f"total: {time.monotonic() - config.T_TOTAL:.1f}s")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `rig.py status | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    log(f"total {args.cmd}: {time.monotonic() - config.T_TOTAL:.1f}s")
    return 0
