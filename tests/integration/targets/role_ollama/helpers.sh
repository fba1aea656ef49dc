# shellcheck shell=bash disable=SC2154  # sourced: work, changed, failed live in the sourcing script
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by runme.sh and instances.sh: reading the default callback's output of a role run.

# recap LOG: the "changed=N" of the PLAY RECAP line for localhost
recap() { sed -n 's/^localhost *: .*changed=\([0-9]*\).*failed=\([0-9]*\).*/\1 \2/p' "$1" | tail -n 1; }

expect() {  # expect FAILED OP N MESSAGE: the last recap has failed=FAILED and changed OP N
  local ok=1
  case "$2" in
    gt) [ "$changed" -gt "$3" ] || ok=0 ;;
    eq) [ "$changed" -eq "$3" ] || ok=0 ;;
  esac
  if [ "$failed" -ne "$1" ] || [ "$ok" -eq 0 ]; then echo "$4"; exit 1; fi
}

# changed_tasks LOG: one "task | item" line per changed result of the default callback, sorted: what a person
# reads as "what changed". A check run must predict exactly the real run's lines.
changed_tasks() {
  awk '/^TASK \[/ { t = $0; sub(/^TASK \[/, "", t); sub(/\] \**$/, "", t) }
       /^changed: \[/ { l = $0; sub(/ => \{.*$/, "", l); i = ""
                        if (match(l, /\(item=.*\)$/)) i = substr(l, RSTART + 6, RLENGTH - 7); print t " | " i }' "$1" | sort
}

same_changes() {  # same_changes CHECK_LOG REAL_LOG: the check run predicted the real run task for task
  if ! diff -u <(changed_tasks "$1") <(changed_tasks "$2") > "$work/changes.diff"; then
    echo "role_ollama: the check run ($1) and the real run ($2) changed different tasks:"
    cat "$work/changes.diff"
    exit 1
  fi
  echo "role_ollama: check and real run changed the same $(changed_tasks "$2" | wc -l) tasks"
}
