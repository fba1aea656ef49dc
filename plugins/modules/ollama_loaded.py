#!/usr/bin/python
#
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_loaded
short_description: Keep Ollama models loaded in memory, or unload them
version_added: 1.0.0
description:
  - Loads installed models into memory (warms them) so the first real request does not wait for the load, keeps
    them there for O(keep_alive), and checks that they sit in GPU memory. Or unloads them.
  - What is loaded is read from C(GET /api/ps). Ollama has no load endpoint; a chat or completion model is loaded
    with an empty C(POST /api/generate), an embedding-only model with an empty C(POST /api/embed) (Ollama refuses
    to load it through C(/api/generate)). Which one is chosen from the model's capabilities (C(POST /api/show)).
  - An alias (a copy made by M(llmops.ollama.ollama_alias)) shares one runner with its source, and C(/api/ps)
    lists it under the name that loaded it. Models with the same manifest digest are therefore treated as one
    loaded model.
  - The module never pulls. A model that is not installed fails the task before anything is loaded; use
    M(llmops.ollama.ollama_model) first. In check mode such a model is predicted as V(loaded) with a warning,
    because in a check run of a playbook the task that installs it has only predicted its pull.
  - O(state=unloaded) sends the unload request under an installed name of the model (the name itself, or another
    name with the same digest). A model deleted while loaded, with no installed name left, cannot be unloaded
    (Ollama answers 404), so the task fails, in check mode too, and says when the model expires.
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
    support: partial
    details:
      - Predicts from C(/api/ps), C(/api/tags) and C(/api/show) what would be loaded, refreshed, reloaded or
        unloaded, and sends nothing that changes the server.
      - O(require_gpu) and O(min_gpu_percent) can only be checked for models that are already loaded, because
        how much of a model fits in GPU memory is only known once it is loaded.
  diff_mode:
    support: full
    details:
      - The diff shows the sorted names C(/api/ps) lists before and after, each marked C((forever)) when it
        never expires.
  idempotent:
    support: partial
    details:
      - O(refresh=true) re-sends O(keep_alive) and reports V(changed) on every run.
  platform:
    platforms: posix
options:
  name:
    description:
      - The models to load or unload.
      - Names are matched the way Ollama matches them, so V(gemma3) is V(gemma3:latest), case-insensitively.
    type: list
    elements: str
    required: true
    aliases: [model, models]
  state:
    description:
      - V(loaded) loads the models that C(/api/ps) does not list.
      - V(unloaded) asks Ollama to unload the models it lists, then waits until C(/api/ps) no longer lists them
        (Ollama unloads in the background). The wait is bounded by O(timeout). A model that is not loaded, or not
        even installed, is V(ok).
    type: str
    choices: [loaded, unloaded]
    default: loaded
  keep_alive:
    description:
      - How long the models stay loaded after their last request, with O(state=loaded).
      - A number is seconds; a negative number (V(-1)) means forever. A string needs a unit, as in V(30m),
        V(2h), V(1h30m) or V(-1m) (forever); Ollama accepts the units V(ns), V(us), V(ms), V(s), V(m), V(h) and
        no V(d).
      - A string that spells a number (V("300"), V("-1"), V("-1.5")) is that number, sent as a JSON number
        (Ollama itself refuses a string without a unit). Templating often makes a string of a number, and in the
        C(key=value) form of ad-hoc commands every value is a string, so V(keep_alive=-1) works there too.
        Strings with a unit the server does not know (V(1d), V(5x)) are refused.
      - V(0) would unload the model right after loading it; use O(state=unloaded) instead.
      - If not set, nothing is sent and the server applies E(OLLAMA_KEEP_ALIVE) (default V(5m)) when it
        loads a model; a model that is already loaded keeps the keep-alive it has.
      - A loaded model is left alone unless O(keep_alive) asks for forever and the model expires. A finite
        O(keep_alive) does not touch a model that is already loaded (forever or with another timeout); set
        O(refresh=true) to apply it.
      - Invalid values fail before any request is sent.
    type: raw
  options:
    description:
      - Runner options for the load, as in the C(options) of C(/api/generate), for example C(num_ctx) (the
        context length) or C(num_gpu) (the number of layers to put on the GPU).
      - Ollama starts a new runner when a request's options differ from the loaded runner's.
      - C(/api/ps) only shows the context length, so only C(num_ctx) is compared for a model that is already
        loaded; it is reloaded when its context length differs. The context Ollama uses is C(num_ctx) raised to
        at least 4 (2048 for vision models) and cut to the context the model was trained with, and that is what
        is compared. Other options cannot be observed; set O(refresh=true) to send them to a loaded model.
      - Older servers report less. Ollama before 0.15.5 shows the configured C(num_ctx) (raised to the floor, not
        cut to the trained context), and that is compared; Ollama before 0.10.0 shows no context length, so a
        loaded model is not compared for C(num_ctx) at all. RV(unverified) says so; a second run stays V(ok).
      - A request without C(num_ctx) makes Ollama restart a loaded runner that uses another context length than
        the model's default. So when the module re-sends a load to a loaded model (O(refresh), or O(keep_alive)
        forever) and O(options) has no C(num_ctx), it sends the context length C(/api/ps) shows, which keeps the
        runner as it is; except when that is the model's trained context (the runner's cut of a larger
        C(num_ctx), for example an all-minilm model trained on 512 loaded with the default). Then it sends none,
        because Ollama compares the configured C(num_ctx), which C(/api/ps) does not show, and the cut value
        would restart the runner.
    type: dict
  refresh:
    description:
      - Send the load request even for models that are already loaded, which restarts their keep-alive timer
        and applies O(keep_alive) and O(options). Reports V(changed).
    type: bool
    default: false
  require_gpu:
    description:
      - Fail unless every model sits entirely in GPU memory (C(size_vram) equals C(size) in C(/api/ps)).
      - The same as O(min_gpu_percent=100).
    type: bool
    default: false
  min_gpu_percent:
    description:
      - Fail when less than this share (0 to 100) of a model sits in GPU memory. The message says how much of it
        sits in system RAM.
      - On a host without a supported GPU every model is in system RAM (0%).
    type: int
  verify:
    description:
      - After loading, prove that each model serves, and return what Ollama measured in RV(models[].verify).
      - A chat or completion model answers one short generation (C(POST /api/generate), streamed) of a fixed
        prompt with O(verify_tokens) tokens at most (C(num_predict)), C(seed) 42 and C(temperature) 0. An
        embedding-only model embeds one fixed sentence (C(POST /api/embed)) and must return a vector.
      - The request sends no C(keep_alive), so the model keeps the one it is loaded with, and it sends the
        runner options the model is loaded with (O(options), else the context length C(/api/ps) shows, unless that
        is the model's trained context, which C(/api/ps) may show for a larger C(num_ctx)), so it does not reload
        the model.
      - Verifying does not count as a change. In check mode nothing is generated and RV(models[].verify) is
        V(null).
    type: bool
    default: false
  verify_tokens:
    description:
      - The most tokens the verify generation may produce (C(num_predict)), from 1 to 4096. More tokens give a
        steadier tokens-per-second figure and take longer.
    type: int
    default: 16
  min_tokens_per_second:
    description:
      - With O(verify=true), fail when a chat model generates fewer tokens per second than this (C(eval_count)
        divided by C(eval_duration), as Ollama measured them). The message names the measured figure and this
        threshold.
      - Embedding-only models generate nothing and are not held to it.
    type: float
  max_first_token_ms:
    description:
      - With O(verify=true), fail when a chat model's first token arrives later than this many milliseconds
        after the verify request was sent (measured by the module, so it includes the network). The message
        names the measured figure and this threshold.
      - Embedding-only models are not held to it.
    type: float
  load_timeout:
    description:
      - Seconds to wait for one load request. Loading a large model from disk into GPU memory takes long.
      - Ollama itself gives up a load that makes no progress for E(OLLAMA_LOAD_TIMEOUT) (default 5 minutes).
      - O(timeout) applies to every other request and bounds the wait for unloads.
    type: float
    default: 600
notes:
  - Ollama loads at most E(OLLAMA_MAX_LOADED_MODELS) models at once (default 3 per GPU, 3 on CPU) and evicts an
    idle one to load another when memory or that limit runs out, whatever its keep-alive. A model that is not
    listed by C(/api/ps) after its load fails the task (unless its O(keep_alive) is shorter than 30 seconds).
  - A load request answers when the model is ready; a failed load (for example C(model requires more system
    memory)) fails the task with the server's message, and models loaded before it stay loaded.
  - A load that takes longer than O(progress_interval) is shown on the controller while it runs (see O(progress));
    Ollama reports no progress for a load, so the line shows the model's size and the time so far.
seealso:
  - module: llmops.ollama.ollama_info
    description: Shows what is loaded (O(llmops.ollama.ollama_info#module:gather=running)).
  - module: llmops.ollama.ollama_model
    description: Installs the models first.
  - ref: ansible_collections.llmops.ollama.docsite.warm_models
    description: Warm models, server settings that decide what stays loaded, and warm-up at boot.
  - ref: ansible_collections.llmops.ollama.docsite.connection
    description: Connecting to Ollama, retries and error messages.
"""

EXAMPLES = r"""
- name: Keep the chat and embedding models loaded forever, entirely in GPU memory
  llmops.ollama.ollama_loaded:
    name: [qwen2.5:7b, nomic-embed-text]
    keep_alive: -1
    require_gpu: true

- name: Load with a 16k context for 2 hours
  llmops.ollama.ollama_loaded:
    name: qwen2.5:7b
    keep_alive: 2h
    options:
      num_ctx: 16384

- name: Restart the keep-alive timer of a model loaded for 30 minutes
  llmops.ollama.ollama_loaded:
    name: qwen2.5:7b
    keep_alive: 30m
    refresh: true

- name: Fail when less than 80% of the model fits in GPU memory
  llmops.ollama.ollama_loaded:
    name: llama3.1:70b
    min_gpu_percent: 80
  register: warm

- name: Show when each model expires
  ansible.builtin.debug:
    msg: "{{ warm.models | items2dict(key_name='name', value_name='expires_at') }}"

- name: Prove the chat model answers at 20 tokens/s or more, with the first token within 2 seconds
  llmops.ollama.ollama_loaded:
    name: qwen2.5:7b
    keep_alive: -1
    verify: true
    min_tokens_per_second: 20
    max_first_token_ms: 2000
  register: verified

- name: Show the generation speed Ollama measured
  ansible.builtin.debug:
    msg: "{{ verified.models[0].verify.tokens_per_second }} tokens/s"

- name: Free the memory
  llmops.ollama.ollama_loaded:
    name: [qwen2.5:7b, nomic-embed-text]
    state: unloaded
"""

RETURN = r"""
url:
  description: The base URL the module talked to.
  returned: always
  type: str
  sample: http://127.0.0.1:11434
models:
  description:
    - One entry per model in O(name), in that order, as C(/api/ps) shows it after the task.
    - In check mode the facts are those C(/api/ps) shows before the task, except RV(models[].loaded), which is
      the prediction; a model that would be loaded has no memory facts yet.
  returned: success, and on failures after requests were sent
  type: list
  elements: dict
  contains:
    name:
      description: The model's name as C(/api/tags) shows it (the shortest form), or as given when not installed.
      type: str
      sample: gemma3:270m
    action:
      description:
        - V(loaded) (it was not loaded), V(reloaded) (loaded again for another context length), V(refreshed)
          (load request sent again to a loaded model, for O(refresh) or to make O(keep_alive) forever),
          V(unloaded), or V(unchanged).
      type: str
      sample: loaded
    loaded:
      description: Whether C(/api/ps) lists the model (or another name for the same model).
      type: bool
      sample: true
    loaded_as:
      description: The name C(/api/ps) lists the runner under; differs from RV(models[].name) for an alias.
      type: str
      sample: gemma3:270m
    expires_at:
      description: When the model unloads if it stays idle (C(/api/ps)).
      type: str
      sample: "2026-11-25T12:05:00.123456789Z"
    forever:
      description: Whether the model never expires (it was loaded with a negative keep_alive).
      type: bool
      sample: false
    size:
      description: Bytes of memory the runner uses.
      type: int
      sample: 540000000
    size_vram:
      description: Bytes of that in GPU memory (C(0) on a CPU-only host).
      type: int
      sample: 0
    gpu_percent:
      description: Share of the model in GPU memory, 0 to 100.
      type: int
      sample: 100
    context_length:
      description: The context length the runner was started with.
      type: int
      sample: 4096
    verify:
      description:
        - With O(verify=true), what the verify request measured; V(null) in check mode. Not returned without
          O(verify).
        - Durations are milliseconds, converted from the nanoseconds Ollama reports; a figure Ollama did not
          report is V(null).
      type: dict
      returned: when O(verify=true)
      contains:
        kind:
          description: V(generate) for a chat/completion model, V(embed) for an embedding-only model.
          type: str
          sample: generate
        path:
          description: The endpoint used.
          type: str
          sample: /api/generate
        prompt:
          description: The fixed prompt (or, for V(embed), the fixed sentence) that was sent.
          type: str
        num_predict:
          description: The token limit sent (O(verify_tokens)); V(null) for V(embed).
          type: int
          sample: 16
        response:
          description: The generated text; V(null) for V(embed).
          type: str
          sample: The sky is blue on a clear day.
        done_reason:
          description: Why generation stopped (C(stop) or C(length)), as Ollama says.
          type: str
          sample: length
        first_token_ms:
          description: Milliseconds from sending the request to the first streamed chunk with text (module-side).
          type: float
          sample: 48.2
        load_ms:
          description: C(load_duration) (time Ollama spent loading the model for this request; near 0 when loaded).
          type: float
          sample: 0.21
        total_ms:
          description: C(total_duration) (the whole request, server-side).
          type: float
          sample: 412.7
        prompt_tokens:
          description: C(prompt_eval_count) (tokens of the prompt that were evaluated).
          type: int
          sample: 24
        prompt_ms:
          description: C(prompt_eval_duration).
          type: float
          sample: 35.1
        prompt_tokens_per_second:
          description: C(prompt_eval_count) per second of C(prompt_eval_duration).
          type: float
          sample: 683.76
        tokens:
          description: C(eval_count) (tokens generated).
          type: int
          sample: 16
        eval_ms:
          description: C(eval_duration).
          type: float
          sample: 360.4
        tokens_per_second:
          description: C(eval_count) per second of C(eval_duration), the generation speed.
          type: float
          sample: 44.4
        embedding_length:
          description: The length of the returned vector, for V(embed); V(null) for V(generate).
          type: int
          sample: 384
verified:
  description: With O(verify=true), one line per verified model with its main figures (empty in check mode).
  returned: when O(verify=true)
  type: list
  elements: str
  sample: ["verified gemma3:270m via /api/generate: first token 48.2 ms, 16 tokens at 44.4 tokens/s, prompt 24
    tokens at 683.76 tokens/s"]
unverified:
  description:
    - What this server's C(/api/ps) cannot confirm, one line per model. Ollama before 0.10.0 reports no context
      length, so a loaded model is not compared with C(options.num_ctx) there (nor reloaded for it); before
      0.15.5 it reports the configured C(num_ctx), not the runner's actual context, and that is what is compared.
  returned: always
  type: list
  elements: str
  sample:
    - "gemma3:270m: num_ctx 8192 not verified: /api/ps of this server reports no context length (Ollama reports it
      from 0.10.0); set refresh=true to send the options again"
actions:
  description: What was done (or would be done, in check mode), one line per model that changed.
  returned: always
  type: list
  elements: str
  sample: ["loaded gemma3:270m via /api/generate (keep_alive forever)"]
diff:
  description:
    - The models C(/api/ps) lists before and after the task (predicted in check mode), sorted, one per line, each
      marked C((forever)) when it never expires.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Loaded models before the task, one per line.
      type: str
      sample: "all-minilm:l6-v2\n"
    after:
      description: Loaded models after the task, one per line.
      type: str
      sample: "all-minilm:l6-v2\ngemma3:270m (forever)\n"
"""

import time

from ansible_collections.llmops.ollama.plugins.module_utils._client import OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils._common import ModuleFailure, OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils._facts import (
    context_length,
    diff_text,
    entry_key,
    expected_context_length,
    format_bytes,
    index_tags,
    running_entry,
)
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_keep_alive, parse_names
from ansible_collections.llmops.ollama.plugins.module_utils._progress import PROBE_KEY, PROGRESS_ARGSPEC, Progress
from ansible_collections.llmops.ollama.plugins.module_utils._runners import (
    runner_for,
    unload,
    unload_name,
    unreachable_message,
    wait_unloaded,
)
from ansible_collections.llmops.ollama.plugins.module_utils._verify import VERIFY_ARGSPEC, VerifySettings, run_verify

ARGUMENT_SPEC = dict(
    name=dict(type="list", elements="str", required=True, aliases=["model", "models"]),
    state=dict(type="str", choices=["loaded", "unloaded"], default="loaded"),
    keep_alive=dict(type="raw"),
    options=dict(type="dict"),
    refresh=dict(type="bool", default=False),
    require_gpu=dict(type="bool", default=False),
    min_gpu_percent=dict(type="int"),
    load_timeout=dict(type="float", default=600.0),
)
ARGUMENT_SPEC.update(VERIFY_ARGSPEC)
ARGUMENT_SPEC.update(PROGRESS_ARGSPEC)

# Below this keep_alive a model may legitimately be gone again when the module reads /api/ps after loading it.
_SHORT_KEEP_ALIVE = 30.0


class TaskRequest:
    """What the task asks for, validated before any request is sent."""

    def __init__(self, params):
        self.names = parse_names(params["name"])
        self.state = params["state"]
        self.keep_alive = None
        self.options = params["options"]
        self.refresh = params["refresh"]
        self.num_ctx = None
        self.min_gpu = None
        if self.state == "unloaded":
            used = [opt for opt in ("keep_alive", "options", "min_gpu_percent") if params[opt] is not None]
            used += [opt for opt in ("refresh", "require_gpu") if params[opt]]
            if used:
                raise ModuleFailure(f"{', '.join(used)} only apply to state=loaded, not to state=unloaded")
            return
        if params["keep_alive"] is not None:
            self.keep_alive = parse_keep_alive(params["keep_alive"])
            if self.keep_alive.unload:
                raise ModuleFailure(
                    f"keep_alive {params['keep_alive']!r} unloads the model as soon as it is loaded; "
                    "use state=unloaded to unload it"
                )
        if self.options and "num_ctx" in self.options:
            num_ctx = self.options["num_ctx"]
            if isinstance(num_ctx, bool) or not isinstance(num_ctx, int) or num_ctx <= 0:
                raise ModuleFailure(
                    f"options.num_ctx must be a positive integer (tokens), got {num_ctx!r} ({type(num_ctx).__name__})"
                )
            self.num_ctx = num_ctx
        percent = params["min_gpu_percent"]
        if percent is not None and not 0 <= percent <= 100:
            raise ModuleFailure(f"min_gpu_percent must be from 0 to 100, got {percent}")
        if params["require_gpu"]:
            percent = 100
        self.min_gpu = percent

    @property
    def short_keep_alive(self):
        ka = self.keep_alive
        return ka is not None and not ka.forever and ka.seconds < _SHORT_KEEP_ALIVE


class Target:
    """One model of the task: its installed name, the runner that serves it now, and what to do."""

    def __init__(self, name, installed=None):
        self.requested = name
        self.installed = installed            # the /api/tags entry, None when not installed
        self.name = installed["name"] if installed else name.short
        self.digest = installed.get("digest") if installed else None
        self.show = None
        self.running = None                   # running_entry() of its /api/ps entry
        self.action = "unchanged"
        self.reason = ""
        self.unload_as = None                 # the installed name an unload request uses
        self.unverified = ""                  # what /api/ps of this server cannot confirm (compare_context)

    def find_runner(self, running):
        """The /api/ps entry for this model: the same name, else the same manifest digest (an alias)."""
        return runner_for(running, self.requested.key, self.digest)

    @property
    def embedding_only(self):
        capabilities = (self.show or {}).get("capabilities") or []
        return "embedding" in capabilities and "completion" not in capabilities


# ---------------------------------------------------------------------------------------------------- decide


def installed_targets(client, request):
    """Targets for every name, with its /api/tags entry (None when it is not installed)."""
    by_key = index_tags(client.tags())
    return [Target(name, by_key.get(name.key)) for name in request.names]


def decide_loaded(mod, request, running):
    client = mod.client
    targets = installed_targets(client, request)
    missing = [t for t in targets if t.installed is None]
    for target in targets:
        if target.installed is not None:
            target.show = client.show(target.name)
            if target.show is None:  # deleted between the two calls
                missing.append(target)
    if missing:
        names = ", ".join(t.requested.raw for t in missing)
        if not mod.check_mode:
            raise ModuleFailure(
                f"not installed on {client.base_url}: {names}; "
                "install with llmops.ollama.ollama_model first (ollama_loaded never pulls)"
            )
        # A check run of a playbook whose earlier task pulls the model: predict the load, as the real run will.
        mod.warn(f"check mode: {names} not installed on {client.base_url} yet; the load is predicted, and a real "
                 "run fails unless an earlier task installs it (llmops.ollama.ollama_model)")
    versions = []

    def server_version():  # asked once, and only when a reported context length needs it
        if not versions:
            versions.append(client.version())
        return versions[0]

    for target in targets:
        target.running = target.find_runner(running)
        if target.installed is None or target.show is None:
            target.action, target.reason = "loaded", "not installed yet (predicted)"
            continue
        decide_one(target, request, server_version)
    return targets


def decide_one(target, request, server_version=lambda: None):
    running = target.running
    if running is None:
        target.action, target.reason = "loaded", "not loaded"
        return
    if request.num_ctx is not None:
        wanted, target.unverified = compare_context(running, request.num_ctx, target.show, server_version)
        if wanted is not None and running.get("context_length") != wanted:
            target.action = "reloaded"
            target.reason = f"context length {running.get('context_length')} -> {wanted}"
            return
    if request.keep_alive is not None and request.keep_alive.forever and not running["forever"]:
        target.action = "refreshed"
        target.reason = f"keep_alive forever asked, it expires at {running.get('expires_at')}"
    elif request.refresh:
        target.action, target.reason = "refreshed", "refresh"


# /api/ps context_length: added in Ollama v0.10.0 (34088dbcf); before v0.15.5 (d11fbd2c6) it is the configured
# num_ctx (raised to the scheduler's floor), not the runner's actual context (clamped to the trained context).
_PS_CONTEXT_ACTUAL_SINCE = (0, 15, 5)


def _version_tuple(text):
    parts = []
    for piece in str(text or "").lstrip("v").split("-", maxsplit=1)[0].split(".")[:3]:
        if not piece.isdigit():
            return None
        parts.append(int(piece))
    return tuple(parts) if len(parts) == 3 else None


def compare_context(running, num_ctx, show, server_version):
    """The context length to compare with ``/api/ps`` of this server for ``num_ctx``, and what is not verified.

    Returns ``(wanted, note)``. ``wanted`` is None when the server reports no context length (then a loaded model
    is left alone rather than reloaded on every run). ``server_version`` is a callable, called only when the
    reported value is not the runner's actual context that v0.15.5 and later report.
    """
    reported = running.get("context_length")
    if reported is None:
        return None, (f"num_ctx {num_ctx} not verified: /api/ps of this server reports no context length "
                      "(Ollama reports it from 0.10.0); set refresh=true to send the options again")
    actual = expected_context_length(num_ctx, show)
    if reported == actual:
        return actual, ""
    version = server_version()
    parsed = _version_tuple(version)
    if parsed is not None and parsed < _PS_CONTEXT_ACTUAL_SINCE:
        floor = 2048 if "vision" in (show.get("capabilities") or []) else 4
        return max(int(num_ctx), floor), (
            f"num_ctx {num_ctx} compared with the configured context length that /api/ps of Ollama {version} "
            "reports, not the runner's actual context (reported from 0.15.5)")
    return actual, ""


def decide_unloaded(client, running, request):
    if not running:
        return [Target(name) for name in request.names]
    index = index_tags(client.tags())
    targets = [Target(name, index.get(name.key)) for name in request.names]
    for target in targets:
        target.running = target.find_runner(running)
        if target.running is None:
            continue
        # The unload request must name an installed model that reaches this runner (check mode decides alike).
        target.unload_as = target.name if target.installed else unload_name(index, target.running)
        if target.unload_as is None:
            raise ModuleFailure(f"Unloading {target.name} is not possible: {unreachable_message(target.running)}")
        target.action, target.reason = "unloaded", f"loaded as {target.running['name']}"
    return targets


# ---------------------------------------------------------------------------------------------------- act


def load(client, target, request, timeout):
    body = {"model": target.name}
    if request.keep_alive is not None:
        body["keep_alive"] = request.keep_alive.wire
    options = dict(request.options or {})
    running_ctx = target.running.get("context_length") if target.action == "refreshed" else None
    if running_ctx and "num_ctx" not in options and not at_trained_context(running_ctx, target.show):
        # Without num_ctx Ollama would restart the runner with the model's default context length. Not for a
        # runner at the model's trained context: that is the runner's clamp of a larger num_ctx (all-minilm,
        # trained on 512, loaded with the default), and Ollama compares the num_ctx a runner was configured
        # with, which /api/ps does not show: sending the clamped value restarts it (seen on 0.34.4), sending
        # none matches a default load.
        options["num_ctx"] = running_ctx
    if options:
        body["options"] = options
    if target.embedding_only:
        client.embed(body, timeout=timeout)
    else:
        client.generate(dict(body, prompt=""), timeout=timeout)


def at_trained_context(running_ctx, show):
    trained = context_length(show or {})
    return isinstance(trained, int) and trained > 0 and running_ctx >= trained


def load_path(target):
    return "/api/embed" if target.embedding_only else "/api/generate"


def describe_action(target, request):
    if target.action == "unloaded":
        return f"unloaded {target.name} ({target.reason})"
    keep = f"keep_alive {request.keep_alive.describe()}" if request.keep_alive else "server keep_alive"
    return f"{target.action} {target.name} via {load_path(target)} ({target.reason}; {keep})"


# ---------------------------------------------------------------------------------------------------- report


def model_result(target, running, predicted=False):
    entry = running or {}
    return {
        "name": target.name,
        "action": target.action,
        "loaded": running is not None or predicted,
        "loaded_as": entry.get("name"),
        "expires_at": entry.get("expires_at"),
        "forever": entry.get("forever", False),
        "size": entry.get("size"),
        "size_vram": entry.get("size_vram"),
        "gpu_percent": entry.get("gpu_percent"),
        "context_length": entry.get("context_length"),
    }


def loaded_set(running):
    return sorted(f"{e['name']} (forever)" if e["forever"] else e["name"] for e in running)


def predicted_running(running, targets, request):
    """/api/ps as it would be after the task, for check mode's diff."""
    after = {entry_key(e): dict(e) for e in running}
    forever = request.keep_alive is not None and request.keep_alive.forever
    for target in targets:
        if target.action == "unloaded":
            after.pop(entry_key(target.running), None)
        elif target.action == "loaded":
            after.setdefault(target.requested.key, {"name": target.name, "forever": forever})
        elif target.action != "unchanged" and request.keep_alive is not None:
            after[entry_key(target.running)]["forever"] = forever
    return list(after.values())


def gpu_shortfalls(targets, results, minimum):
    """Messages for the models below ``minimum`` percent in GPU memory."""
    messages = []
    for target, result in zip(targets, results):
        size, vram = result["size"], result["size_vram"]
        if size is None or vram * 100 >= minimum * size:
            continue
        what = "require_gpu needs 100%" if minimum == 100 else f"min_gpu_percent is {minimum}%"
        messages.append(
            f"{target.name} is {vram * 100 // size}% in GPU memory ({what}): "
            f"{format_bytes(size - vram)} of {format_bytes(size)} in system RAM"
        )
    return messages


# ---------------------------------------------------------------------------------------------------- module


def run(mod):
    request = TaskRequest(mod.params)
    progress = Progress(mod.params, enabled=not mod.check_mode)
    problem = progress.check()
    if problem:
        raise ModuleFailure(problem)
    client = mod.client
    verify = VerifySettings(mod.params)  # validated before any request, like Request
    running = [running_entry(item) for item in client.ps()]
    if request.state == "loaded":
        targets = decide_loaded(mod, request, running)
    else:
        targets = decide_unloaded(client, running, request)
    todo = [t for t in targets if t.action != "unchanged"]
    result = {"changed": bool(todo), "url": client.base_url, "actions": [describe_action(t, request) for t in todo]}
    result["unverified"] = [f"{t.name}: {t.unverified}" for t in targets if t.unverified]

    if progress.hand_over(any(t.action != "unloaded" for t in todo)):
        return {"changed": False, PROBE_KEY: True}  # progress auto: the action plugin runs this again, polled
    if mod.check_mode or not todo:
        after = predicted_running(running, targets, request)
        result["models"] = [model_result(t, None if t.action == "unloaded" else t.running, t.action == "loaded")
                            for t in targets]
    else:
        after = apply(mod, client, request, targets, todo, result, progress)
        result["models"] = [model_result(t, t.find_runner(after)) for t in targets]
    if mod.diff_mode:
        result["diff"] = {"before": diff_text(loaded_set(running)), "after": diff_text(loaded_set(after)),
                          "before_header": f"{client.base_url}/api/ps", "after_header": f"{client.base_url}/api/ps"}

    if request.state == "loaded" and not mod.check_mode:
        gone = [t.name for t, r in zip(targets, result["models"]) if not r["loaded"]]
        if gone and not request.short_keep_alive:
            raise ModuleFailure(
                f"{', '.join(gone)} loaded, but {client.base_url}/api/ps no longer lists it: the server evicted it "
                "(more models than OLLAMA_MAX_LOADED_MODELS, or not enough memory for all of them)", **result)
    if request.min_gpu is not None:
        checked = [(t, r) for t, r in zip(targets, result["models"]) if r["size"] is not None]
        shortfalls = gpu_shortfalls([t for t, r in checked], [r for t, r in checked], request.min_gpu)
        if shortfalls:
            raise ModuleFailure("; ".join(shortfalls), **result)
    if verify.enabled:
        verify_loaded(mod, verify, request, targets, result)
    return result


def verify_loaded(mod, verify, request, targets, result):
    """verify=true: one short generation or embedding per model; figures in models[].verify, never a change."""
    entries = [(t.name, t.show, r) for t, r in zip(targets, result["models"])]
    try:
        lines, failures = run_verify(mod.client, verify, entries, request.options, mod.params["load_timeout"],
                                     mod.check_mode)
    except OllamaError as exc:
        raise ModuleFailure(f"Verifying failed: {exc}", error=exc.as_dict(), **result)
    result["verified"] = lines
    if failures:
        raise ModuleFailure("; ".join(failures), **result)


_LOAD_VERBS = {"loaded": ("loading", "loaded"), "reloaded": ("reloading", "reloaded"),
               "refreshed": ("refreshing", "refreshed")}


def apply(mod, client, request, targets, todo, result, progress=None):
    """Send the loads or unloads; return /api/ps (as running_entry dicts) afterwards."""
    done = []
    for target in todo:
        try:
            if target.action == "unloaded":
                unload(client, target.unload_as)
            elif progress is None:
                load(client, target, request, mod.params["load_timeout"])
            else:
                verb, done_verb = _LOAD_VERBS.get(target.action, ("loading", "loaded"))
                with progress.load(target.name, (target.installed or {}).get("size"), verb, done_verb):
                    load(client, target, request, mod.params["load_timeout"])
        except OllamaError as exc:
            verb = "Unloading" if target.action == "unloaded" else "Loading"
            raise ModuleFailure(
                f"{verb} {target.name} failed: {exc}", error=exc.as_dict(), changed=bool(done),
                url=client.base_url, actions=[describe_action(t, request) for t in done])
        done.append(target)
    if request.state == "unloaded":
        still = wait_unloaded(client, [t.running for t in todo], mod.params["timeout"])
        if still:
            after = [running_entry(item) for item in client.ps()]
            result["models"] = [model_result(t, t.find_runner(after)) for t in targets]
            raise ModuleFailure(
                f"{', '.join(still)} still loaded {mod.params['timeout']:g}s after the unload request (timeout): "
                "Ollama unloads a model only when the requests using it finish", **result)
    return settled_ps(client, [t for t in todo if t.action != "unloaded"], request)


def settled_ps(client, loaded, request, wait=3.0, sleep=time.sleep, clock=time.monotonic):
    """/api/ps after the loads, once it shows their keep_alive. Ollama applies a request's keep_alive to a runner
    it reuses when that request's end reaches the scheduler, a moment after the answer (v0.34.4 sched.go), so a
    read right after a refresh can still show the old expiry. Waits up to ``wait`` seconds, then takes what is
    there (the result shows it, and a keep_alive the server did not take shows as not forever)."""
    deadline = clock() + wait
    delay = 0.05
    while True:
        after = [running_entry(item) for item in client.ps()]
        if not request.keep_alive or clock() >= deadline:
            return after
        if all(_took(t, t.find_runner(after), request) for t in loaded):
            return after
        sleep(delay)
        delay = min(delay * 2, 0.5)


def _took(target, runner, request):
    if runner is None:
        return True  # evicted or gone: reported as not loaded, not waited for
    if request.keep_alive.forever:
        return bool(runner.get("forever"))
    before = (target.running or {}).get("expires_at")
    return not before or runner.get("expires_at") != before


def main():
    OllamaModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
