# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Put tools/get_pip_standin.py where the installed ansible-test looks for its get-pip script.

Run with the interpreter that has ansible-core installed (the repo's .venv).  The pip version
is read from the installed ansible-test (``get_venv_packages`` in
``ansible_test/_internal/python_requirements.py``), and the cache path template is checked
against ``ansible_test/_util/target/setup/requirements.py``, so an ansible-core bump that changes
either fails here loudly instead of later with a download error.

A real get-pip script already in the cache (not carrying our marker) is left alone.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "get_pip_standin.py")
MARKER = "llmops.ollama get-pip stand-in"
CACHE_TEMPLATE = "~/.ansible/test/cache/get_pip_%s.py"


def ansible_test_dir() -> str:
    import ansible_test  # pylint: disable=import-outside-toplevel

    return os.path.dirname(ansible_test.__file__)


def pip_version(python_version: str) -> str:
    try:
        from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

        return get_venv_packages(SimpleNamespace(version=python_version))["pip"]
    except (ImportError, AttributeError, KeyError, TypeError):
        # Fall back to reading the source if the internal API moved.
        path = os.path.join(ansible_test_dir(), "_internal", "python_requirements.py")
        with open(path, encoding="utf-8") as handle:
            match = re.search(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", handle.read())
        if not match:
            sys.exit(f"install_get_pip: cannot find the pip version in {path}")
        return match.group(1)


def check_cache_template() -> None:
    path = os.path.join(ansible_test_dir(), "_util", "target", "setup", "requirements.py")
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    if CACHE_TEMPLATE not in source or 'pip_version.replace(".", "_")' not in source:
        sys.exit(f"install_get_pip: {path} no longer uses {CACHE_TEMPLATE!r} with dots replaced; update tools/install_get_pip.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="%d.%d" % sys.version_info[:2], help="target Python version (default: this one)")
    parser.add_argument("--print-path", action="store_true", help="only print the cache path")
    opts = parser.parse_args()

    check_cache_template()
    version = pip_version(opts.python)
    target = os.path.expanduser(CACHE_TEMPLATE % version.replace(".", "_"))
    if opts.print_path:
        print(target)
        return 0

    if os.path.exists(target):
        with open(target, encoding="utf-8", errors="replace") as handle:
            current = handle.read()
        if MARKER not in current:
            print(f"install_get_pip: keeping existing get-pip {version} script at {target}")
            return 0
        with open(STANDIN, encoding="utf-8") as handle:
            if handle.read() == current:
                print(f"install_get_pip: stand-in for pip {version} already at {target}")
                return 0

    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(STANDIN, target + ".tmp")
    os.replace(target + ".tmp", target)
    print(f"install_get_pip: installed stand-in for pip {version} at {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
