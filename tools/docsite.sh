#!/usr/bin/env bash
# Copyright (c) llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# docsite.sh STAGE DEST: lint the documentation of the staged collection STAGE
# (.../ansible_collections/<ns>/<name>, see tools/stage.sh) and build its docsite into DEST, offline.
#
#   1. antsibull-docs lint-collection-docs --plugin-docs: docs/docsite/ (extra-docs.yml, links.yml, the
#      RST guides) and every module's and the role's documentation markup.
#   2. antsibull-docs sphinx-init + the build.sh it writes: the same RST that docs.ansible.com would render,
#      built with Sphinx into DEST/build/html.
#
# Without network the intersphinx inventories (docs.python.org, docs.ansible.com, jinja) cannot be fetched.
# Sphinx then warns that it failed to reach them, and the labels that only those inventories define are
# undefined; those warnings (and only those) are accepted. Any other warning or error fails, so a broken
# reference in a guide or a seealso entry fails the build.
set -euo pipefail

stage=${1:?usage: docsite.sh STAGE DEST}
dest=${2:?usage: docsite.sh STAGE DEST}
case "$stage" in
  */ansible_collections/*/*) ;;
  *) echo "docsite.sh: $stage is not .../ansible_collections/<ns>/<name>" >&2; exit 2 ;;
esac
name=${stage#*/ansible_collections/}
collection=${name%%/*}.${name#*/}
export ANSIBLE_COLLECTIONS_PATH=${stage%/ansible_collections/*}

# Labels the generated pages take from docs.ansible.com's inventory (ansible_devel in conf.py).
# action_plugins: modules with an action plugin; ansible.builtin's plugin pages: M(ansible.builtin.get_url) etc.
ansible_docs_labels="common_return_values|ansible_configuration_settings|action_plugins|ansible_collections\.ansible\.builtin\.[a-z0-9_]+_(module|filter|test|lookup)"

echo "docsite: antsibull-docs lint-collection-docs --plugin-docs ($collection)"
(cd "$stage" && antsibull-docs lint-collection-docs --plugin-docs .)

rm -rf "$dest"
mkdir -p "$dest"
antsibull-docs sphinx-init --use-current --fail-on-error --lenient --dest-dir "$dest" \
  --project "$collection" --copyright "$collection contributors" \
  --title "$collection collection" --html-short-title "$collection" \
  "$collection" >/dev/null
# Where the inventories' hosts resolve but do not answer, do not wait for TCP timeouts.
printf '\n# Added by tools/docsite.sh: give up on an unreachable intersphinx inventory quickly.\nintersphinx_timeout = 10\n' \
  >>"$dest/conf.py"

log=$dest/build.log
echo "docsite: building into $dest/build/html"
if ! "$dest/build.sh" >"$log" 2>&1; then
  cat "$log"
  echo "docsite: FAILED: the build did not finish (log above)"
  exit 1
fi

accepted=$(grep -cE "WARNING: failed to reach any of the inventories|WARNING: undefined label: '($ansible_docs_labels)'" "$log" || true)
unexpected=$(grep -E "(WARNING|ERROR|CRITICAL|SEVERE)" "$log" \
  | grep -vE "WARNING: failed to reach any of the inventories|WARNING: undefined label: '($ansible_docs_labels)'" || true)
if [ -n "$unexpected" ]; then
  echo "$unexpected"
  echo "docsite: FAILED: Sphinx warnings other than unreachable intersphinx inventories (full log: $log)"
  exit 1
fi
pages=$(find "$dest/build/html" -name '*.html' | wc -l)
echo "docsite: ok, $pages pages in $dest/build/html ($accepted accepted warnings from unreachable intersphinx inventories)"
