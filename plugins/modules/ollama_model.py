#!/usr/bin/python
#
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model
short_description: Make Ollama models present, absent, current, pinned or exclusive
version_added: 1.0.0
description:
  - Pulls, updates, pins, builds and deletes models on an Ollama server.
  - One C(GET /api/tags) decides what to do. With O(state=present) a model that is already installed causes no
    registry traffic at all, so hosts without registry access stay green.
  - Names are compared the way Ollama compares them, so V(gemma3), V(gemma3:latest), V(library/gemma3) and
    V(registry.ollama.ai/library/gemma3:latest) are the same model (case-insensitive per part).
  - Pulls are streamed. A pull that makes no progress for O(stall_timeout) seconds is stopped; broken
    connections, stalls and server errors are retried O(retries) times with exponential backoff, and the server
    resumes the partial download. The result reports the bytes and the duration of each pull.
author:
  - llmops.ollama maintainers (@llmops-ollama)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - llmops.ollama._connection
  - llmops.ollama._connection.actiongroup
  - llmops.ollama._attributes
  - llmops.ollama._progress
attributes:
  check_mode:
    support: full
    details:
      - Check mode sends no request that changes anything.
      - With O(state=latest) and with O(digest), check mode asks the model's registry for its manifest
        (C(GET /v2/<namespace>/<model>/manifests/<tag>)) and compares its sha256 with the installed digest, so
        the prediction is exact. This request is made from the host the module runs on.
      - When that registry cannot be reached or wants credentials, check mode predicts V(changed) for the
        model and adds a warning. A registry that answers 404 fails the task, as the real run would.
      - With O(create), check mode compares the existing model exactly as a real run does; a model whose O(create.from)
        is not installed yet is predicted as V(created).
  diff_mode:
    support: full
    details:
      - The diff lists the installed models before and after, sorted, as C(name@digest12). A digest that cannot
        be known in check mode is shown as C(unknown).
  idempotent:
    support: full
  platform:
    platforms: posix
options:
  name:
    description:
      - The models, as names Ollama accepts (C([host/][namespace/]model[:tag])); a missing tag means V(latest).
      - Every name is validated before any request is sent; an invalid name fails the task and names the
        entry. Tags V(local), V(cloud) and C(*-cloud) are refused, because Ollama reads them as a source suffix.
    type: list
    elements: str
    required: true
    aliases: [model, models]
  state:
    description:
      - V(present) pulls the models that are not installed and leaves installed ones alone.
      - V(latest) asks each model's registry for its manifest (up to eight at once) and pulls only the models
        whose manifest digest differs from the installed one, or that are not installed; V(changed) only for
        those. Check mode and the real run decide alike, so the prediction is exact. A model whose registry cannot
        be asked from this host (unreachable, wants credentials) is pulled through Ollama, which checks it, and
        reported V(changed) only when its digest changed.
      - V(latest) trusts an installed model whose digest equals the registry's, as V(present) does; to repair a
        model whose blobs were damaged on disk, delete it and pull it again.
      - V(absent) deletes the models that are installed; a missing model is V(ok). Blobs still used by other
        names (aliases) stay on disk.
      - Like C(ollama rm), a model that is loaded is unloaded before it is deleted (and the module waits up to
        O(timeout) seconds until C(/api/ps) no longer lists it), so its memory is freed. A loaded alias whose
        source stays installed is left loaded, unless C(/api/ps) lists the runner under the name being deleted.
        Check mode predicts the unload too.
    type: str
    choices: [present, absent, latest]
    default: present
  digest:
    description:
      - The manifest digest the model must have, as C(/api/tags) shows it, with or without C(sha256:).
      - Only with one O(name) and O(state=present).
      - An installed model with this digest is V(ok) without registry traffic. Otherwise the module first asks
        the registry for the manifest; when the registry serves another digest the task fails, names both
        digests, and pulls nothing.
      - When the registry cannot be asked (unreachable, wants credentials), the model is pulled and its digest is
        checked afterwards; on a mismatch the task fails, and a model that was not installed before is deleted
        again.
    type: str
  insecure:
    description:
      - Talk to the registry over plain C(http://) (passed to C(/api/pull)). Ollama has no https-to-http
        fallback and no option to skip certificate checks, so a registry with a self-signed certificate needs
        its CA in the system trust store of the Ollama host instead.
      - Also used for the manifest request in check mode and for O(digest).
    type: bool
    default: false
  exclusive:
    description:
      - With O(state=present) or O(state=latest), also delete every installed model that is not named in
        O(name), aliases included. Deletions happen only after all pulls succeeded.
      - Check mode and diff mode list exactly which models would go (a base that O(create) pulls is not named, so
        it goes too).
    type: bool
    default: false
  models_dir:
    description:
      - The Ollama server's models directory (E(OLLAMA_MODELS)) on the host the module runs on. When set,
        before any pull the module asks the registry for the manifest of each model it will pull, adds up
        the blobs the server does not have yet (C(HEAD /api/blobs)), and fails, naming both numbers, when that
        plus O(free_space_margin) exceeds the free space of the directory's filesystem. Nothing is pulled then.
      - Models already installed (with O(state=present)) cause no registry request. A model whose manifest
        cannot be fetched is left out of the sum, with a warning.
    type: path
  free_space_margin:
    description:
      - MiB that must stay free on the filesystem of O(models_dir) after the pulls.
    type: int
    default: 1024
  create:
    description:
      - Build O(name) from an installed or pullable model through C(POST /api/create) instead of pulling it.
      - Only with one O(name) and O(state=present).
      - Idempotent. An existing model is V(ok) when its base, system prompt, template, parameters and messages
        already match what this build would produce; the base matches when the model uses the weights of
        O(create.from). With O(create.quantize) the weights are new (Ollama records no parent for them), so the
        model matches when it has that quantization level and, while O(create.from) is installed, the same
        model metadata (C(model_info) of C(/api/show)) apart from the file type. Options that
        are not given are expected to be inherited from O(create.from). Any difference rebuilds the model
        (V(changed)).
      - When O(create.from) is not installed it is pulled first (with O(insecure), O(retries) and O(stall_timeout)).
    type: dict
    suboptions:
      from:
        description:
          - The model to start from (a model name; Ollama's API does not accept a file path here).
        type: str
        required: true
      system:
        description:
          - The system prompt. Replaces the inherited one.
        type: str
      template:
        description:
          - The prompt template (Go template syntax). Replaces the inherited one.
        type: str
      parameters:
        description:
          - Runner parameters, merged over the inherited ones, for example C(num_ctx) or C(temperature).
          - List parameters such as C(stop) take a list.
        type: dict
      messages:
        description:
          - Example conversation stored with the model; replaces the inherited messages when not empty.
        type: list
        elements: dict
      license:
        description:
          - License texts, appended to the inherited ones.
        type: list
        elements: str
      quantize:
        description:
          - Quantize the weights while building. Ollama can only quantize from F16, BF16 or F32 weights.
          - Ollama 0.34 and later quantize only safetensors imports at create time, so they refuse to quantize an
            installed model (GGUF); the task then fails with the server's reason. Earlier servers quantize any
            installed F16, BF16 or F32 model.
        type: str
        choices: [F32, F16, BF16, Q8_0, Q4_K_S, Q4_K_M, Q4_K]
  stall_timeout:
    description:
      - Seconds a pull or build may go without progress before it is stopped. There is no limit on the total
        time of a pull that keeps progressing.
    type: float
    default: 300
  retries:
    description:
      - How often to retry a pull after a broken connection, a stall or a server error (HTTP 5xx), waiting
        2, 4, 8 ... seconds in between. Ollama resumes the partial download.
      - Errors the server reports inside the pull stream (for example a model the registry does not have) are
        not retried.
    type: int
    default: 3
notes:
  - The progress of a long pull or build is shown on the controller while it runs, one line per host per
    O(progress_interval) (see O(progress)), and can be appended to a file on the host (O(progress_log)). What was
    pulled is reported in RV(models[].pull) when the module finishes.
  - A pull survives a dropped SSH connection when the task runs in the background, with O(progress) (the default
    V(auto)) or with C(async) and C(poll) on the task. See
    R(Progress and long pulls,ansible_collections.llmops.ollama.docsite.progress).
  - Two runs pulling the same model at the same time both succeed; the server downloads each blob once.
  - "The module talks to the registry itself only for O(state=latest) in check mode and for O(digest); it then
    uses the proxy settings of the host the module runs on (C(https_proxy), C(no_proxy))."
seealso:
  - module: llmops.ollama.ollama_alias
  - module: llmops.ollama.ollama_info
  - module: llmops.ollama.ollama_loaded
  - ref: ansible_collections.llmops.ollama.docsite.private_registries
    description: Private registries, air-gapped hosts, digest pins and updates.
  - ref: ansible_collections.llmops.ollama.docsite.connection
    description: Connecting to Ollama, retries and error messages.
  - ref: ansible_collections.llmops.ollama.docsite.progress
    description: Live progress of long pulls, progress_log, and async pulls that survive a dropped connection.
"""

EXAMPLES = r"""
- name: Two models are installed (pulled only when missing)
  llmops.ollama.ollama_model:
    name: [qwen2.5:7b, nomic-embed-text]

- name: Keep a model current (changed only when the registry has a new manifest)
  llmops.ollama.ollama_model:
    name: gemma3:270m
    state: latest

- name: Pin a model to one exact manifest
  llmops.ollama.ollama_model:
    name: gemma3:270m
    digest: sha256:e7d36fb2c3b3293cfe56d55889867a064b3a2b22e98335f2e6e8a387e081d6be

- name: Pull from a private plain-http registry
  llmops.ollama.ollama_model:
    name: registry.example.internal:5000/library/gemma3:270m
    insecure: true

- name: These models and nothing else
  llmops.ollama.ollama_model:
    name: [qwen2.5:7b, nomic-embed-text]
    exclusive: true

- name: A chat model with a system prompt and a larger context
  llmops.ollama.ollama_model:
    name: support-bot
    create:
      from: qwen2.5:7b
      system: You answer questions about our product, briefly.
      parameters:
        num_ctx: 16384
        temperature: 0.2

- name: Remove a model
  llmops.ollama.ollama_model:
    name: llama3.2
    state: absent

- name: A large model, one progress line every 30 seconds, also written to a file on the host
  llmops.ollama.ollama_model:
    name: qwen2.5:72b
    progress_interval: 30
    progress_log: /var/log/ollama-pull.log

- name: A pull that must survive a dropped SSH connection, polled by Ansible (no progress lines)
  llmops.ollama.ollama_model:
    name: qwen2.5:72b
  async: 7200
  poll: 15

- name: Report what a pull transferred
  llmops.ollama.ollama_model:
    name: qwen2.5:7b
  register: pulled

- name: Show bytes and seconds
  ansible.builtin.debug:
    msg: "{{ pulled.models[0].pull | default('nothing pulled') }}"
"""

RETURN = r"""
models:
  description: One entry per model in O(name), in the order given (duplicates of the same model are merged).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The model's name as C(/api/tags) shows it (the shortest form).
      type: str
      sample: gemma3:270m
    action:
      description:
        - What was done, or in check mode what would be done.
        - V(pulled) (was missing), V(updated) (new digest, or a rebuilt O(create) model), V(created),
          V(deleted), V(unchanged).
      type: str
      sample: pulled
    digest_before:
      description: The manifest digest before the task (as C(/api/tags) shows it), V(null) when not installed.
      type: str
      sample: null
    digest_after:
      description:
        - The manifest digest after the task, V(null) when not installed.
        - In check mode the predicted digest where it is known (from the registry), else V(null).
      type: str
      sample: e7d36fb2c3b3293cfe56d55889867a064b3a2b22e98335f2e6e8a387e081d6be
    size:
      description: Bytes on disk after the task (layers and config), V(null) when not installed or not known.
      type: int
      sample: 291554930
    pull:
      description: What the pull transferred, counted from the server's progress lines.
      returned: when the model was pulled (not in check mode)
      type: dict
      contains:
        bytes:
          description: Bytes of the layers that were not on the server before (downloaded or resumed).
          type: int
        bytes_total:
          description: Bytes of all layers of the model.
          type: int
        layers:
          description: Number of layers (including the config) the server reported.
          type: int
        layers_cached:
          description: Layers that were already on the server.
          type: int
        seconds:
          description: Duration of the pull including retries.
          type: float
        attempts:
          description: Number of attempts (1 when no retry was needed).
          type: int
        progress_lines:
          description: Number of progress lines the server sent.
          type: int
      sample: {"bytes": 291548384, "bytes_total": 291554930, "layers": 4, "layers_cached": 0, "seconds": 6.2,
               "attempts": 1, "progress_lines": 97}
removed:
  description: Models deleted (or, in check mode, to be deleted) because of O(exclusive).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The model's name as C(/api/tags) shows it.
      type: str
    digest:
      description: Its manifest digest.
      type: str
    size:
      description: Its size in bytes.
      type: int
  sample: [{"name": "llama3.2:latest", "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "size": 2019393189}]
actions:
  description: What was done (or would be done in check mode), one readable line each.
  returned: always
  type: list
  elements: str
  sample: ["Pulled gemma3:270m (291.5 MB in 6.2s)", "Deleted llama3.2:latest (exclusive)"]
diff:
  description: Installed models before and after, sorted, one C(name@digest12) per line.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Before the task.
      type: str
      sample: "llama3.2:latest@a80c4f17acd5\n"
    after:
      description: After the task (predicted in check mode).
      type: str
      sample: "gemma3:270m@e7d36fb2c3b3\n"
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.llmops.ollama.plugins.module_utils._client import (
    OllamaError,
    PullStats,
    RegistryError,
    manifest_blobs,
    pull_with_retries,
    registry_manifest,
)
from ansible_collections.llmops.ollama.plugins.module_utils._common import ModuleFailure, OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils._facts import (
    diff_text,
    entry_key,
    format_bytes,
    index_tags,
    parse_parameters,
    running_entry,
)
from ansible_collections.llmops.ollama.plugins.module_utils._names import (
    InvalidName,
    bare_digest,
    parse_digest,
    parse_name,
    parse_names,
    short_digest,
)
from ansible_collections.llmops.ollama.plugins.module_utils._progress import PROBE_KEY, PROGRESS_ARGSPEC, Progress
from ansible_collections.llmops.ollama.plugins.module_utils._runners import (
    runner_for,
    unload,
    unload_name,
    wait_unloaded,
)
from ansible_collections.llmops.ollama.plugins.module_utils._space import free_bytes

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str", required=True, aliases=["model", "models"]),
    state=dict(type="str", choices=["present", "absent", "latest"], default="present"),
    digest=dict(type="str"),
    insecure=dict(type="bool", default=False),
    exclusive=dict(type="bool", default=False),
    create=dict(
        type="dict",
        options={
            "from": dict(type="str", required=True),
            "system": dict(type="str"),
            "template": dict(type="str"),
            "parameters": dict(type="dict"),
            "messages": dict(type="list", elements="dict"),
            "license": dict(type="list", elements="str"),
            "quantize": dict(type="str", choices=["F32", "F16", "BF16", "Q8_0", "Q4_K_S", "Q4_K_M", "Q4_K"]),
        },
    ),
    stall_timeout=dict(type="float", default=300.0),
    retries=dict(type="int", default=3),
    models_dir=dict(type="path"),
    free_space_margin=dict(type="int", default=1024),
)
ARGUMENT_SPEC.update(PROGRESS_ARGSPEC)

_LIST_PARAMETERS = ("stop",)
_PLAN_TIMEOUT = 10.0
_REGISTRY_WORKERS = 8


# ------------------------------------------------------------------------------------------------------ decide

def decide(params):
    """Validate everything the user gave, before any request. Returns (names, digest, create)."""
    names = parse_names(params["name"])
    if not names:
        raise ModuleFailure("name: give at least one model name")
    state = params["state"]
    digest = None
    if params["digest"] is not None:
        digest = parse_digest(params["digest"])
        if digest is None:
            raise ModuleFailure(f"digest {params['digest']!r} is not a sha256 digest (64 hex characters, "
                                "optionally prefixed with 'sha256:')")
    for option, value in (("digest", digest), ("create", params["create"])):
        if value is None:
            continue
        if len(names) != 1:
            raise ModuleFailure(f"{option} needs exactly one name, got {len(names)}: {', '.join(n.raw for n in names)}")
        if state != "present":
            raise ModuleFailure(f"{option} needs state=present, got state={state}")
    if digest is not None and params["create"] is not None:
        raise ModuleFailure("digest and create cannot be combined: a built model's digest is not known in advance")
    if params["exclusive"] and state == "absent":
        raise ModuleFailure("exclusive needs state=present or state=latest; with state=absent it would delete everything")
    if params["stall_timeout"] <= 0:
        raise ModuleFailure(f"stall_timeout must be greater than 0, got {params['stall_timeout']:g}")
    if params["retries"] < 0:
        raise ModuleFailure(f"retries must be 0 or more, got {params['retries']}")
    create = params["create"]
    if create is not None:
        try:
            parse_name(create["from"])
        except InvalidName as exc:
            raise ModuleFailure(f"create.from: {exc}") from None
        for index, message in enumerate(create["messages"] or []):
            if not isinstance(message.get("role"), str) or not isinstance(message.get("content"), str):
                raise ModuleFailure(f"create.messages[{index}] needs a 'role' and a 'content' string, got {message!r}")
        for key, value in (create["parameters"] or {}).items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(item, (str, int, float, bool)) for item in values):
                raise ModuleFailure(f"create.parameters.{key}: {value!r} is not a string, number, boolean or list of them")
    return names, digest, create


def listing(index):
    return sorted(f"{item['name']}@{short_digest(item.get('digest')) or 'unknown'}" for item in index.values())


def from_blob(show):
    """The weights blob of a model: the first ``FROM`` line of its ``/api/show`` modelfile."""
    for line in (show.get("modelfile") or "").splitlines():
        if line.startswith("FROM "):
            return line[5:].strip()
    return None


# Metadata keys that quantizing changes by design; every other model_info key is the base's.
_QUANTIZATION_KEYS = ("general.file_type", "general.quantization_version")


def _model_metadata(show):
    """``model_info`` of ``/api/show`` without the keys that quantization changes."""
    return {key: value for key, value in (show.get("model_info") or {}).items() if key not in _QUANTIZATION_KEYS}


def _norm(value):
    if isinstance(value, list):
        return [_norm(item) for item in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _norm_parameters(parameters):
    result = {}
    for key, value in (parameters or {}).items():
        if key in _LIST_PARAMETERS and not isinstance(value, list):
            value = [value]
        result[key] = _norm(value)
    return result


def _norm_messages(messages):
    return [(m.get("role"), m.get("content")) for m in messages or []]


def create_differences(existing, base, spec):
    """Why the existing model (``/api/show``) is not what ``create`` would build; [] when it already is.

    ``base`` is the ``/api/show`` of ``create.from`` when it is installed, else None: then only the options
    given are compared.
    """
    diffs = []
    details = existing.get("details") or {}
    if spec["quantize"]:
        # A quantized build has weights of its own and Ollama records no parent for them (server/create.go,
        # quantizeLayer: NewLayer without From). What ties it to its base is the model's own metadata.
        if (details.get("quantization_level") or "").upper() != spec["quantize"].upper():
            diffs.append(f"quantization: {details.get('quantization_level')!r}, not {spec['quantize']!r}")
        if base is not None:
            different = sorted(key for key in set(_model_metadata(existing)) | set(_model_metadata(base))
                               if _model_metadata(existing).get(key) != _model_metadata(base).get(key))
            if different:
                diffs.append(f"base: the model metadata differs from {spec['from']!r} ({', '.join(different[:5])})")
    elif base is None:
        # Without the base installed there are no weights to compare: the recorded parent must be the base.
        parent = details.get("parent_model") or ""
        try:
            same_parent = parse_name(parent).key == parse_name(spec["from"]).key
        except InvalidName:
            same_parent = False
        if not same_parent:
            diffs.append(f"base: built from {parent or 'unknown'!r}, not {spec['from']!r}")
    elif from_blob(existing) != from_blob(base):
        diffs.append(f"base: the weights differ from those of {spec['from']!r}")
    for field in ("system", "template"):
        wanted = spec[field] if spec[field] is not None else (base or {}).get(field) if base is not None else None
        if (spec[field] is not None or base is not None) and (existing.get(field) or "") != (wanted or ""):
            diffs.append(f"{field} differs")
    have = _norm_parameters(parse_parameters(existing.get("parameters")))
    given = _norm_parameters(spec["parameters"])
    if base is not None:
        wanted = _norm_parameters(parse_parameters(base.get("parameters")))
        wanted.update(given)
    else:
        wanted = given
        have = {key: value for key, value in have.items() if key in given}
    if have != wanted:
        changed_keys = sorted(key for key in set(have) | set(wanted) if have.get(key) != wanted.get(key))
        diffs.append(f"parameters differ: {', '.join(changed_keys)}")
    if spec["messages"]:
        if _norm_messages(existing.get("messages")) != _norm_messages(spec["messages"]):
            diffs.append("messages differ")
    elif base is not None and _norm_messages(existing.get("messages")) != _norm_messages(base.get("messages")):
        diffs.append("messages differ")
    licenses = existing.get("license") or ""
    for text in spec["license"] or []:
        if text not in licenses:
            diffs.append("license missing")
            break
    return diffs


def create_body(name, spec):
    body = {"model": name.raw, "from": spec["from"]}
    for key in ("system", "template", "parameters", "messages", "license", "quantize"):
        if spec[key] not in (None, [], {}):
            body[key] = spec[key]
    return body


# ------------------------------------------------------------------------------------------------- plan, act

class Run:
    """One module run: plan() decides every step first (reads only), then predict() reports the plan (check mode)
    or act() carries it out; what was found and done is kept so a failure can report it all."""

    def __init__(self, mod):
        self.mod = mod
        self.client = mod.client
        self.params = mod.params
        self.check = mod.check_mode
        self.changed = False
        self.entries = []
        self.removed = []
        self.actions = []
        self.before = {}
        self._running = None  # /api/ps, read once when something is deleted
        self._manifests = {}  # name key -> (digest, manifest, error) from the registry
        self._blobs = {}      # digest -> whether the server has that blob (HEAD /api/blobs)
        self.progress = Progress(mod.params, enabled=not mod.check_mode)

    def fail(self, message):
        raise ModuleFailure(message, changed=self.changed, models=self.entries, removed=self.removed,
                            actions=self.actions)

    # -------------------------------------------------------------------- registry

    def manifest(self, name, timeout=None):
        """``(digest hex, manifest dict, RegistryError)`` from the model's registry, asked once per name."""
        if name.key not in self._manifests:
            try:
                digest, manifest = registry_manifest(name, insecure=self.params["insecure"],
                                                     timeout=timeout or self.params["timeout"])
                self._manifests[name.key] = (bare_digest(digest), manifest, None)
            except RegistryError as exc:
                self._manifests[name.key] = (None, None, exc)
        return self._manifests[name.key]

    def fail_if_unknown(self, name, exc):
        """A registry that answers 404 does not have the model: fail as the pull would, before anything changes."""
        if exc is not None and exc.status == 404:
            self.fail(f"The registry has no model {name.raw!r}: {exc}")

    def registry_digest(self, name):
        """The registry's manifest digest for ``name`` (bare hex), or None with a warning when it cannot tell."""
        digest, dummy, exc = self.manifest(name)
        if exc is None:
            return digest
        self.fail_if_unknown(name, exc)
        if self.check:
            self.mod.warn(f"Could not ask the registry for the manifest of {name.raw}, so check mode assumes it "
                          f"changes: {exc}")
        else:
            self.mod.warn(f"Could not ask the registry for the manifest of {name.raw} ({exc}); pulling it through "
                          "Ollama, which checks the digest itself")
        return None

    # -------------------------------------------------------------------- disk space

    def needs_pull(self, name, digest):
        """Whether ``name`` will be pulled: missing, pinned to another digest, or (latest) served anew."""
        before = self.before.get(name.key)
        if self.params["state"] == "latest":
            served = self.manifest(name)[0]
            return served is None or served != bare_digest((before or {}).get("digest"))
        return before is None or digest is not None and bare_digest(before.get("digest")) != digest

    def present_blobs(self, digests):
        """Which of ``digests`` the server has (``HEAD /api/blobs``), each asked once per run."""
        for digest in digests:
            if digest not in self._blobs:
                self._blobs[digest] = self.client.has_blob(digest)
        return {digest for digest in digests if self._blobs[digest]}

    def check_space(self, names, digest):
        """Before any pull: fail when the blobs the pulls add do not fit in models_dir's filesystem + margin."""
        models_dir = self.params["models_dir"]
        pulls = [name for name in names if self.needs_pull(name, digest)]
        blobs, unsized = {}, []
        for name in pulls:
            dummy, manifest, exc = self.manifest(name)
            self.fail_if_unknown(name, exc)
            found = manifest_blobs(manifest)
            if exc is not None or not found:
                unsized.append(f"{name.raw} ({exc or 'its manifest lists no blob sizes'})")
            blobs.update(found)
        if unsized:
            self.mod.warn("Could not size the pull of " + "; ".join(unsized) + ": the free-space check leaves it out")
        if not blobs:
            return
        present = self.present_blobs(blobs)
        need = sum(size for blob, size in blobs.items() if blob not in present)
        path, free = free_bytes(models_dir)
        margin = self.params["free_space_margin"] * 1024 * 1024
        if need and need + margin > free:
            self.fail(f"Not enough disk space for {', '.join(n.raw for n in pulls)}: the pull adds "
                      f"{format_bytes(need)} ({need} bytes) to {models_dir}, but {path} has only "
                      f"{format_bytes(free)} ({free} bytes) free (plus the margin of "
                      f"{self.params['free_space_margin']} MiB, free_space_margin). Nothing was pulled.")

    # -------------------------------------------------------------------- pulls

    def pull_stats(self, name):
        """A PullStats that knows beforehand which blobs the server lacks, when the registry tells the manifest."""
        stats = PullStats()
        # Only for the figures: Ollama fetches the manifest itself, so a registry this host cannot reach costs
        # at most a few seconds here and then the figures come from the progress lines.
        dummy, manifest, exc = self.manifest(name, timeout=min(self.params["timeout"], _PLAN_TIMEOUT))
        blobs = manifest_blobs(manifest)
        if exc is None and blobs:
            stats.plan(blobs, self.present_blobs(blobs))
        return stats

    def pull(self, name):
        stats = self.pull_stats(name)
        try:
            with self.progress.pull(name.raw, stats.planned, self.params["retries"] + 1) as op:
                stats = pull_with_retries(self.client, name.raw, insecure=self.params["insecure"],
                                          stall_timeout=self.params["stall_timeout"], retries=self.params["retries"],
                                          stats=stats, progress=op)
        except OllamaError as exc:
            hint = ""
            if "manifest: file does not exist" in (exc.server_error or ""):
                hint = f"; the registry {name.host} has no {name.namespace}/{name.model}:{name.tag}"
            # An error line inside the pull stream already reads "... could not pull <model> (POST /api/pull)".
            prefix = "" if exc.status == 200 else f"Pulling {name.raw} failed: "
            self.fail(f"{prefix}{exc}{hint}")
        for blob in manifest_blobs(self.manifest(name)[1]):
            self._blobs[blob] = True  # a later pull in this run finds it on the server
        return stats.as_dict(), stats.entry

    def pull_step(self, name, before, expected, pin=None):
        """A pull of ``name``, expected to bring the manifest digest ``expected`` (bare hex, None when unknown)."""
        after = {"name": (before or {}).get("name") or name.short, "digest": expected, "size": None}
        return Step(name, "pull", "pulled" if before is None else "updated", before, after, pin=pin)

    def model_entry(self, name, action, before, after, pull=None):
        entry = {
            "name": (after or before or {}).get("name") or name.short,
            "action": action,
            "digest_before": bare_digest((before or {}).get("digest")),
            "digest_after": bare_digest((after or {}).get("digest")),
            "size": (after or {}).get("size"),
        }
        if pull is not None:
            entry["pull"] = pull
        return entry

    def fresh_index(self):
        return index_tags(self.client.tags())

    # -------------------------------------------------------------------- plan (reads only)

    def plan(self, names, digest, create):
        """Decide every step from what the server and the registries say now; nothing is changed here."""
        state = self.params["state"]
        plan = Plan(self.before)
        doomed = {name.key for name in names if name.key in self.before} if state == "absent" else set()
        if state == "latest":
            self.ask_registries(names)
        if self.params["models_dir"] and create is None and state in ("present", "latest"):
            self.check_space(names, digest)
        for name in names:
            if create is not None:
                plan.steps.append(self.plan_create(name, create))
            elif state == "present":
                plan.steps.append(self.plan_present(name, digest))
            elif state == "latest":
                plan.steps.append(self.plan_latest(name))
            else:
                plan.steps.append(self.plan_absent(name, doomed))
        if self.params["exclusive"]:
            plan.deletions = self.plan_exclusive(names, plan)
        return plan

    def plan_present(self, name, digest):
        before = self.before.get(name.key)
        if before is not None and (digest is None or bare_digest(before.get("digest")) == digest):
            return Step(name, None, "unchanged", before, before)
        expected = digest
        if digest is not None:
            served = self.registry_digest(name)
            if served is not None and served != digest:
                self.fail(f"The registry serves {name.raw} with digest sha256:{served}, not the pinned "
                          f"sha256:{digest}; nothing was pulled")
            expected = served or digest
        return self.pull_step(name, before, expected, pin=digest)

    def ask_registries(self, names):
        """Fetch the manifests of ``names`` from their registries at once (a few at a time), before deciding."""
        todo = [name for name in names if name.key not in self._manifests]
        if len(todo) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(len(todo), _REGISTRY_WORKERS)) as pool:
            for dummy in pool.map(self.manifest, todo):
                pass

    def plan_latest(self, name):
        """Pull only what the registry serves with another digest, or what it could not be asked about."""
        before = self.before.get(name.key)
        served = self.registry_digest(name)
        if served is not None and served == bare_digest((before or {}).get("digest")):
            return Step(name, None, "unchanged", before, before)
        return self.pull_step(name, before, served)

    def plan_absent(self, name, doomed):
        before = self.before.get(name.key)
        if before is None:
            return Step(name, None, "unchanged", None, None)
        return Step(name, "delete", "deleted", before, None, deletion=self.plan_delete(before, self.before, doomed, ""))

    def plan_create(self, name, spec):
        before = self.before.get(name.key)
        base_name = parse_name(spec["from"])
        base_entry = self.before.get(base_name.key)
        base = self.client.show(base_entry["name"]) if base_entry is not None else None
        if before is not None:
            existing = self.client.show(before["name"])
            diffs = ["it vanished"] if existing is None else create_differences(existing, base, spec)
            if not diffs:
                return Step(name, None, "unchanged", before, before)
            action, why = "updated", f" ({'; '.join(diffs)})"
        else:
            action, why = "created", ""
        return Step(name, "create", action, before, {"name": name.short}, why=why, spec=spec,
                    base=base_name if base_entry is None else None)

    def plan_exclusive(self, names, plan):
        """Every installed model not named, and a base that a create pulls (the real run finds it installed)."""
        keep = {name.key for name in names}
        index = dict(self.before)
        for step in plan.steps:
            if step.base is not None and step.base.key not in index:
                index[step.base.key] = {"name": step.base.short, "digest": None, "size": None}
        doomed = {key for key in index if key not in keep}
        return [self.plan_delete(item, index, doomed, " (exclusive)")
                for key, item in sorted(index.items(), key=lambda pair: pair[1]["name"]) if key in doomed]

    def running(self):
        if self._running is None:
            self._running = [running_entry(item) for item in self.client.ps()]
        return self._running

    def plan_delete(self, item, index, doomed, why):
        """Delete the name, after unloading the runner only this name reaches (what ``ollama rm`` does).

        ``index`` is ``/api/tags`` by key and ``doomed`` the keys this run deletes: a runner that a remaining
        name with the same digest still reaches stays loaded (it is that name's runner too), except when
        ``/api/ps`` lists it under the name being deleted.
        """
        key = entry_key(item)
        running = self.running()
        runner = runner_for(running, key, item.get("digest"))
        remaining = {other: entry for other, entry in index.items() if other not in doomed}
        if runner is not None and (entry_key(runner) == key or unload_name(remaining, runner) is None):
            self._running = [entry for entry in running if entry is not runner]
        else:
            runner = None
        return Deletion(item, why, runner)

    # -------------------------------------------------------------------- check mode: report the plan

    def predict(self, plan):
        self.changed = plan.changed
        for step in plan.steps:
            self.entries.append(self.model_entry(step.name, step.action, step.before, step.after))
            if step.kind == "pull":
                self.actions.append(f"Would pull {step.name.raw}" +
                                    (f" (sha256:{step.after['digest']})" if step.after["digest"] else ""))
            elif step.kind == "create":
                if step.base is not None:
                    self.actions.append(f"Would pull {step.spec['from']}")
                self.actions.append(f"Would {'create' if step.action == 'created' else 'rebuild'} {step.name.raw} "
                                    f"from {step.spec['from']}{step.why}")
            elif step.kind == "delete":
                self.actions.extend(step.deletion.describe(done=False))
        for deletion in plan.deletions:
            self.actions.extend(deletion.describe(done=False))
            self.removed.append(deletion.removed())

    # -------------------------------------------------------------------- real run: carry the plan out

    def act(self, plan):
        for step in plan.steps:
            if step.kind == "pull":
                self.act_pull(step)
            elif step.kind == "create":
                self.act_create(step)
            elif step.kind == "delete":
                self.act_delete(step.deletion)
                self.entries.append(self.model_entry(step.name, step.action, step.before, None))
            else:
                self.entries.append(self.model_entry(step.name, step.action, step.before, step.after))
        if plan.deletions:
            index = self.fresh_index()
            for deletion in plan.deletions:
                deletion.item = index.get(entry_key(deletion.item))
                if deletion.item is None:
                    continue  # gone in between: the goal is reached
                self.act_delete(deletion)
                self.removed.append(deletion.removed())

    def act_pull(self, step):
        name, before = step.name, step.before
        stats, after = self.pull(name)
        digest_before, got = bare_digest((before or {}).get("digest")), bare_digest((after or {}).get("digest"))
        if self.params["state"] == "latest":
            # The registry serves another digest, or could not be asked: Ollama pulled and checked it.
            action = "pulled" if before is None else "updated" if got != digest_before else "unchanged"
            if action != "unchanged":
                self.changed = True
                self.actions.append(f"{action.capitalize()} {name.raw} ({format_bytes(stats['bytes'])} in "
                                    f"{stats['seconds']:.1f}s)")
            self.entries.append(self.model_entry(name, action, before, after, pull=stats))
            return
        self.changed = True
        if step.pin is not None and got != step.pin:
            message = (f"Pulled {name.raw} has digest sha256:{got}, not the pinned sha256:{step.pin}")
            if before is None:
                try:
                    self.client.delete(after["name"] if after else name.raw)
                    message += "; it was deleted again"
                    self.changed = False
                except OllamaError as exc:
                    message += f"; deleting it again failed: {exc}"
            else:
                message += f"; it replaced the installed sha256:{digest_before}"
            self.fail(message)
        self.entries.append(self.model_entry(name, step.action, before, after, pull=stats))
        self.actions.append(f"Pulled {name.raw} ({format_bytes(stats['bytes'])} in {stats['seconds']:.1f}s)")

    def act_delete(self, deletion):
        item, runner = deletion.item, deletion.runner
        if runner is not None:
            try:
                unload(self.client, item["name"])
            except OllamaError as exc:
                self.fail(f"Unloading {runner['name']} before deleting {item['name']} failed: {exc}")
            self.actions.append(deletion.describe(done=True)[0])
            still = wait_unloaded(self.client, [runner], self.params["timeout"])
            if still:
                self.mod.warn(f"{', '.join(still)} still loaded {self.params['timeout']:g}s after the unload "
                              f"request; deleting {item['name']} anyway (the memory is freed when its requests end)")
        try:
            self.client.delete(item["name"], missing_ok=True)  # gone in between: the goal is reached
        except OllamaError as exc:
            self.fail(f"Deleting {item['name']}{deletion.why} failed: {exc}")
        self.changed = True
        self.actions.append(deletion.describe(done=True)[-1])

    def act_create(self, step):
        name, spec = step.name, step.spec
        self.changed = True
        pull = None
        if step.base is not None:
            pull = self.pull(step.base)[0]
            self.actions.append(f"Pulled {spec['from']} ({format_bytes(pull['bytes'])} in {pull['seconds']:.1f}s)")
        try:
            with self.progress.create(name.raw) as op:
                for item in self.client.create(create_body(name, spec), stall_timeout=self.params["stall_timeout"]):
                    op.see(item)
        except OllamaError as exc:
            self.fail(f"Building {name.raw} from {spec['from']} failed: {exc}")
        after = self.fresh_index().get(name.key)
        self.entries.append(self.model_entry(name, step.action, step.before, after, pull=pull))
        self.actions.append(f"{'Created' if step.action == 'created' else 'Rebuilt'} {name.raw} from "
                            f"{spec['from']}{step.why}")


# ------------------------------------------------------------------------------------------------------ the plan

class Step:
    """What the run does about one named model, decided before anything changes.

    ``kind`` is what the real run does (``pull``, ``create``, ``delete``, None for nothing), ``action`` the word
    the result reports, ``after`` the ``/api/tags``-like entry expected afterwards (what check mode reports and
    its diff shows).
    """

    def __init__(self, name, kind, action, before, after, pin=None, why="", spec=None, base=None, deletion=None):
        self.name = name
        self.kind = kind
        self.action = action
        self.before = before
        self.after = after
        self.pin = pin             # pull: the pinned digest (bare hex) the pulled model must have
        self.why = why             # create: what differs from the existing model
        self.spec = spec           # create: the create option
        self.base = base           # create: the base name to pull first, None when it is installed
        self.deletion = deletion   # delete: the Deletion


class Deletion:
    """One name to delete, and the runner to unload first (None when none, or another name still reaches it)."""

    def __init__(self, item, why, runner):
        self.item = item
        self.why = why
        self.runner = runner

    def describe(self, done):
        """The action lines: the unload (when there is one) and the delete, as done or as check mode says it."""
        name = self.item["name"]
        lines = []
        if self.runner is not None:
            lines.append(f"{'Unloaded' if done else 'Would unload'} {self.runner['name']} before deleting {name}")
        lines.append(f"{'Deleted' if done else 'Would delete'} {name}{self.why}")
        return lines

    def removed(self):
        return {"name": self.item["name"], "digest": bare_digest(self.item.get("digest")), "size": self.item.get("size")}


class Plan:
    """The steps of one run, in order, and the deletions ``exclusive`` adds after them."""

    def __init__(self, before):
        self.before = before
        self.steps = []
        self.deletions = []

    @property
    def changed(self):
        return bool(self.deletions) or any(step.kind is not None for step in self.steps)

    def after(self):
        """``/api/tags`` by key as the plan leaves it (check mode's diff)."""
        after = dict(self.before)
        for step in self.steps:
            if step.kind == "delete":
                after.pop(step.name.key, None)
            elif step.kind is not None:
                after[step.name.key] = step.after
        for deletion in self.deletions:
            after.pop(entry_key(deletion.item), None)
        return after


# ------------------------------------------------------------------------------------------------------- report

def run(mod):
    names, digest, create = decide(mod.params)
    job = Run(mod)
    problem = job.progress.check()
    if problem:
        raise ModuleFailure(problem)
    job.before = index_tags(mod.client.tags())
    plan = job.plan(names, digest, create)
    if job.progress.hand_over(any(step.kind in ("pull", "create") for step in plan.steps)):
        return {"changed": False, PROBE_KEY: True}  # progress auto: the action plugin runs this again, polled
    if mod.check_mode:
        job.predict(plan)
    else:
        job.act(plan)
    result = {"changed": job.changed, "models": job.entries, "removed": job.removed, "actions": job.actions}
    if mod.diff_mode:
        if mod.check_mode:
            after = plan.after()
        else:
            after = job.fresh_index() if job.changed else job.before
        result["diff"] = {"before": diff_text(listing(job.before)), "after": diff_text(listing(after))}
    return result


def main():
    OllamaModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
