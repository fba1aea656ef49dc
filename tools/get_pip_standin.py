# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates its managed virtualenvs with ``python -m venv --without-pip`` and then
runs ``python <quiet_pip.py> --disable-pip-version-check pip==X.Y [--no-setuptools] [--no-wheel]``
with ``GET_PIP=~/.ansible/test/cache/get_pip_X_Y.py``; quiet_pip.py executes that cached file as
``__main__`` with the pip arguments in ``sys.argv[1:]``.  The real script comes from a host that is
not reachable here, so this stand-in does the same job with what is reachable:

1. ``python -m ensurepip --upgrade --default-pip`` bootstraps the pip bundled with the interpreter;
2. ``python -m pip install <the same arguments>`` moves to the exact pip version ansible-test wants
   (from PyPI or the local pip cache), dropping the get-pip-only options ``--no-setuptools`` and
   ``--no-wheel`` (a ``--without-pip`` venv has neither, which is what they ask for).

tools/install_get_pip.py installs this file at the path ansible-test expects.
"""

from __future__ import annotations

import subprocess
import sys

MARKER = "llmops.ollama get-pip stand-in"
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True,
                   stdout=subprocess.DEVNULL)
    if args:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet"] + args, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
