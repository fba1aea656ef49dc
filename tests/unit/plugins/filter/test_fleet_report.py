# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet_report filter: input checks (the drift rules are tested in module_utils/test_fleet.py)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.fleet_report import FilterModule


def host():
    return {"url": "http://127.0.0.1:11434", "version": "0.34.4", "models": [], "running": [], "error": None}


def test_filter_refuses_what_is_not_a_dict_of_records():
    fleet_report_filter = FilterModule().filters()["fleet_report"]
    with pytest.raises(AnsibleFilterError, match="expects a dict of host name to record, got list"):
        fleet_report_filter([])
    with pytest.raises(AnsibleFilterError, match="the record of a is not a dict"):
        fleet_report_filter({"a": "text"})
    assert fleet_report_filter({"a": host()})["has_drift"] is False
