# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The connection options every module shares, and the module wrapper that turns them into a client."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.llmops.ollama.plugins.module_utils._client import OllamaClient, OllamaError, url_credentials
from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidKeepAlive, InvalidName

# Documented in plugins/doc_fragments/_connection.py; keep the two in step.
CONNECTION_ARGSPEC = dict(
    url=dict(type="str", aliases=["host"], fallback=(env_fallback, ["OLLAMA_HOST"])),
    timeout=dict(type="float", default=30.0),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path", no_log=False),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["OLLAMA_API_KEY"])),
    headers=dict(type="dict", default={}, no_log=True),
)


class ModuleFailure(Exception):
    """Raised by module logic to fail with a message and extra result keys."""

    def __init__(self, message, **result):
        super().__init__(message)
        self.result = result


class OllamaModule:
    """An AnsibleModule with the connection options merged in and a client built from them.

    ``run(fn)`` calls ``fn(self)``, which returns the result dict, and turns the collection's exceptions into
    ``fail_json`` with the message they carry, so no module needs its own try/except ladder.
    """

    def __init__(self, argument_spec, supports_check_mode=True, **kwargs):
        spec = dict(CONNECTION_ARGSPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        # url is not a secret, but credentials in it are (refused by the client, and masked in the invocation
        # Ansible shows at -vvv).
        self.module.no_log_values.update(url_credentials(self.module.params.get("url")))
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.diff_mode = self.module._diff
        self._client = None

    @property
    def client(self):
        """Built on first use, so option errors are reported before any connection is attempted."""
        if self._client is None:
            params = self.params
            try:
                self._client = OllamaClient(
                    url=params["url"],
                    timeout=params["timeout"],
                    validate_certs=params["validate_certs"],
                    ca_path=params["ca_path"],
                    client_cert=params["client_cert"],
                    client_key=params["client_key"],
                    api_key=params["api_key"],
                    headers=params["headers"],
                )
            except ValueError as exc:
                raise ModuleFailure(str(exc))
        return self._client

    def warn(self, message):
        self.module.warn(message)

    def run(self, fn):
        # The expected failures are reported after their except block: inside it, ansible-core before 2.19 adds
        # the Python traceback to the result at -vvv, which is noise for a plain "bad value" or server message.
        failure, result = None, {}
        try:
            if self.params["timeout"] <= 0:
                raise ModuleFailure(f"timeout must be greater than 0, got {self.params['timeout']:g}")
            self.client  # validate url before deciding anything  # pylint: disable=pointless-statement
            result = fn(self)
        except ModuleFailure as exc:
            failure = dict(exc.result, msg=str(exc))
        except (InvalidName, InvalidKeepAlive) as exc:
            failure = dict(msg=str(exc))
        except OllamaError as exc:
            failure = dict(msg=str(exc), error=exc.as_dict())
        except Exception as exc:  # an unexpected bug: fail with the traceback rather than a Python crash
            failure = dict(msg=f"Unexpected error: {exc}", exception=traceback.format_exc())
        if failure is not None:
            self.module.fail_json(**failure)
        self.module.exit_json(**result)
