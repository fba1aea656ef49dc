# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report
short_description: Compare what Ollama hosts run, and find where they drift apart
version_added: 1.0.0
author: llmops.ollama contributors
description:
  - Takes one record per host (what M(llmops.ollama.ollama_info) gathered there) and returns the fleet side by
    side, hosts by models, with every drift marked. The playbook C(llmops.ollama.report) renders it as Markdown
    and HTML.
  - "Drift is: a model name whose manifest digest differs between hosts (the cells that differ from what most
    hosts hold are marked, every cell on a tie); a model installed on some hosts and not on others (the hosts
    without it are marked); hosts that run another Ollama version than most hosts; a host whose Ollama did not
    answer."
  - Which models are loaded, and until when, is reported but is never drift.
  - Model names are compared the way Ollama compares them (V(gemma3) is V(gemma3:latest), case-insensitively).
options:
  _input:
    description:
      - A dict of host name to record. A record has C(url), C(version), C(models) (the RV(llmops.ollama.ollama_info#module:models)
        list), C(running) (the RV(llmops.ollama.ollama_info#module:running) list), optionally C(verify) (the
        RV(llmops.ollama.ollama_loaded#module:models) list of a run with O(llmops.ollama.ollama_loaded#module:verify=true)),
        and C(error) (the message of a host that did not answer, else empty).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Fail when the hosts drift apart
  ansible.builtin.assert:
    that: not report.has_drift
    fail_msg: "{{ report.drift | join('; ') }}"
  vars:
    report: "{{ fleet | llmops.ollama.fleet_report }}"
"""

RETURN = r"""
_value:
  description:
    - C(hosts) (one row per host, sorted, with C(name), C(url), C(version), C(error), C(models), C(loaded),
      C(version_drift)), C(host_names), C(models) (one row per model name with C(name), C(drift) (a list of
      V(digest) and V(missing)), C(digests) and C(cells), a dict of host to C(state) (V(present), V(missing) or
      V(unknown)), C(drift) (true when this cell is marked), C(digest) (short), C(size), C(size_human), C(loaded),
      C(text)), C(loaded) (one row per loaded model per host), C(verify) (one row per verified model per host),
      C(findings) (C(kind), C(text)), C(drift) (the findings as lines), C(has_drift) and C(summary).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils._fleet import fleet_report as _fleet_report


def fleet_report(hosts):
    if not isinstance(hosts, dict):
        raise AnsibleFilterError(f"fleet_report expects a dict of host name to record, got {type(hosts).__name__}")
    bad = [name for name, record in hosts.items() if not isinstance(record, dict)]
    if bad:
        raise AnsibleFilterError(f"fleet_report: the record of {', '.join(map(str, bad))} is not a dict")
    return _fleet_report({str(name): record for name, record in hosts.items()})


class FilterModule:
    def filters(self):
        return {"fleet_report": fleet_report}
