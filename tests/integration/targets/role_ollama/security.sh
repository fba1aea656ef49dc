# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by runme.sh after the role has provisioned the rig (uses its run_role, recap, expect, $work,
# $config, $here): the role's secret handling (issue 9).
# shellcheck shell=bash disable=SC2154,SC2034
# (work, config, here are set and changed/failed are read by runme.sh, which sources this file)

# S1. Secrets never reach the screen: -v and --check --diff of the systemd branch, with a proxy password
# (secret by name), a bearer token in a value whose name looks harmless (secret by value), and an API key.
run_role secret_verbose -v --check --diff -e ollama_service_manager=systemd -e "ollama_systemd_dir=$work/systemd" \
  -e ollama_warm_on_boot=true -e "ollama_warm_script_path=$work/ollama-warm.py" \
  -e "ollama_warm_auth_path=$work/ollama-warm-auth.json" -e ollama_api_key=api-key-s3cr3t \
  -e '{"ollama_environment": {"HTTPS_PROXY": "http://user:proxy-s3cr3t@proxy:3128",
       "LLM_ENDPOINT_OPTS": "authorization=Bearer value-s3cr3t", "OLLAMA_KEEP_ALIVE": "10m"}}'
read -r changed failed < <(recap "$work/secret_verbose.log")
expect "0" "gt" "0" "role_ollama: the -v --check --diff run of the systemd branch should predict changes"
grep -q 'Write the drop-in' "$work/secret_verbose.log"
if grep -nE 'proxy-s3cr3t|value-s3cr3t|api-key-s3cr3t' "$work/secret_verbose.log"; then
  echo "role_ollama: a secret reached the -v / --diff output (lines above)"; exit 1
fi
# A value alone makes the environment secret: --diff of the drop-in shows nothing of it.
run_role secret_value --check --diff -e ollama_service_manager=systemd -e "ollama_systemd_dir=$work/systemd" \
  -e '{"ollama_environment": {"OTEL_RESOURCE_ATTRIBUTES": "token=value-only-s3cr3t"}}'
if grep -n 'value-only-s3cr3t' "$work/secret_value.log"; then
  echo "role_ollama: a credential in a value reached the --diff output"; exit 1
fi

# S2. The drop-in and the warm-up credentials, written for real (security.yml); umask 022 would make a file
# created by the umask 0644.
rm -f "$work/auth-proxy.port" "$work/auth-proxy.log"
rig_url=$(sed -n 's/^ollama_url: *//p' "$config" | tr -d "\"'")
python3 "$here/auth_proxy.py" "$rig_url" warm-key-s3cr3t X-Rig-Gate=warm-header-s3cr3t \
  "$work/auth-proxy.port" "$work/auth-proxy.log" "$$" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$work/auth-proxy.port" ] && break; sleep 0.1; done
echo "=== role_ollama: security.yml"
( umask 022; ansible-playbook -i inventory security.yml -e "@$config" -e "work=$work" ) 2>&1 | tee "$work/security.log"
kill "$proxy_pid" 2>/dev/null || true
wait "$proxy_pid" 2>/dev/null || true
grep -qE '^localhost +:.* failed=0 ' "$work/security.log"
if grep -nE 'warm-key-s3cr3t|warm-header-s3cr3t|dropin-s3cr3t' "$work/security.log"; then
  echo "role_ollama: a secret reached the output of security.yml"; exit 1
fi
# S3. A play with gather_facts: false: runme.sh 3b (with ollama_verify).
