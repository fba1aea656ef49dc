#!/usr/bin/python
#
# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_bundle
short_description: Carry Ollama models into air-gapped hosts as one verified bundle file
version_added: 1.0.0
description:
  - With O(state=exported), writes a bundle for O(models) straight from their registry, the way Ollama itself
    pulls (registry protocol, no Ollama server needed). The bundle holds the manifests byte for byte, every
    blob they reference, and an index with the names, manifest digests and sizes, in one uncompressed tar file.
  - With O(state=imported), installs the models of a bundle into the Ollama server at O(url), so that
    C(/api/tags) lists the same names with the same manifest digests a pull from the registry gives. After that
    M(llmops.ollama.ollama_model) with O(llmops.ollama.ollama_model#module:state=present) is V(ok) for those
    names without any registry.
  - "How an import works, all through Ollama's API: the manifests and the blobs the server lacks are read
    and their sha256 checked before anything is sent (a damaged or truncated bundle fails naming the bad blob,
    and nothing changes); the blobs the server lacks are uploaded with C(POST /api/blobs/sha256:<hex>) (the
    server checks each digest again; blobs it has, per C(HEAD /api/blobs), are not sent); then the module serves
    the manifests on a loopback port of its own, asks Ollama to pull each from there under a temporary name
    (C(127.0.0.1:<port>/llmops-bundle-import/model-<n>:latest); every blob is already present, so nothing but the
    manifest moves), copies that manifest byte for byte to the model's real name (C(POST /api/copy)) and
    deletes the temporary name. The real name therefore appears last, with the manifest Ollama's own pull stores."
  - Models already installed under their name with the bundle's digest are left alone and send nothing.
author:
  - llmops.ollama maintainers (@llmops-ollama)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - llmops.ollama._connection
  - llmops.ollama._connection.actiongroup
  - llmops.ollama._attributes
attributes:
  check_mode:
    support: full
    details:
      - With O(state=imported), check mode reads and checks the bundle as a real run does (a damaged bundle
        fails in check mode too), asks the server which models and blobs it has, and predicts the models and the
        bytes the import would add; it sends nothing that changes the server.
      - With O(state=exported), check mode asks the registry for the manifests and predicts the bundle's models
        and bytes; it downloads no blob and writes nothing.
  diff_mode:
    support: full
  idempotent:
    support: full
  platform:
    platforms: posix
options:
  state:
    description:
      - V(exported) writes the bundle O(path) for O(models) from their registry. An existing O(path) whose index
        lists exactly these names with the digests the registry serves now is left alone.
      - V(imported) installs the models of the bundle O(path) (or only O(models) of them) into the server.
    type: str
    choices: [exported, imported]
    required: true
  path:
    description:
      - The bundle file. With O(state=exported) it is written next to itself under a temporary name and renamed
        into place when complete, so a failed or interrupted export never leaves a partial bundle at O(path).
      - With O(state=imported), the bundle on the host the module runs on (copy it there first, for example
        with C(ansible.builtin.copy)).
    type: path
    required: true
  models:
    description:
      - Model names as Ollama accepts them (C([host/][namespace/]model[:tag]); a missing tag means V(latest)).
      - Required with O(state=exported); each is fetched from its own registry (V(registry.ollama.ai) unless the
        name has a host).
      - With O(state=imported), import only these models of the bundle (each must be in it); by default all.
    type: list
    elements: str
    aliases: [name]
  insecure:
    description:
      - With O(state=exported), talk to the registry over plain C(http://), as O(llmops.ollama.ollama_model#module:insecure)
        does for pulls.
    type: bool
    default: false
  stall_timeout:
    description:
      - Seconds a blob download (export) or upload (import), or the pull from the loopback registry, may go
        without progress before the task fails.
    type: float
    default: 300
notes:
  - The import must run on a host whose loopback interface the Ollama server shares, normally the Ollama host
    itself with O(url) pointing at it (the default); Ollama pulls the manifests from C(127.0.0.1:<port>), a port
    the module opens for the duration of the task only.
  - An import that is interrupted after the uploads leaves blobs no model uses yet (invisible to C(/api/tags));
    the next import uses them instead of sending them again. It may also leave a temporary
    C(127.0.0.1:<port>/llmops-bundle-import/...) name, which the next import deletes.
  - A model installed under the same name with another digest is replaced by the bundle's (reported as
    V(updated)); the blobs only the old manifest used stay on disk, as after C(ollama cp).
  - Older Ollama releases (0.6.5 and 0.12.6, for example) store a pulled manifest re-encoded rather than byte
    for byte, so its C(/api/tags) digest can differ from the registry's; the import stores what that server's
    own pull stores, and says so in a warning.
seealso:
  - module: llmops.ollama.ollama_model
  - ref: ansible_collections.llmops.ollama.docsite.air_gap_bundles
    description: Air-gapped hosts without a registry, step by step.
"""

EXAMPLES = r"""
- name: On a connected machine, write a bundle of two models
  llmops.ollama.ollama_bundle:
    state: exported
    models: [qwen2.5:7b, nomic-embed-text]
    path: /srv/bundles/models.tar
  delegate_to: localhost
  run_once: true

- name: Carry it to the GPU host
  ansible.builtin.copy:
    src: /srv/bundles/models.tar
    dest: /var/tmp/models.tar
    mode: "0644"

- name: Import it into the local Ollama
  llmops.ollama.ollama_bundle:
    state: imported
    path: /var/tmp/models.tar

- name: From here on no registry is needed for these names
  llmops.ollama.ollama_model:
    name: [qwen2.5:7b, nomic-embed-text]
"""

RETURN = r"""
models:
  description: One entry per model of the bundle that the task handled, in bundle order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The model name as C(/api/tags) shows it.
      type: str
      sample: qwen2.5:7b
    digest:
      description: The manifest digest (C(sha256:<hex>)) in the bundle, as the registry serves it.
      type: str
    digest_before:
      description: With O(state=imported), the digest the server had under that name before (bare hex), or V(null).
      type: str
    action:
      description:
        - V(imported), V(updated) (another digest was installed under the name) or V(unchanged) with
          O(state=imported); V(exported) or V(unchanged) with O(state=exported). Predicted in check mode.
      type: str
      sample: imported
    size:
      description: Bytes of all the model's blobs.
      type: int
bytes:
  description:
    - With O(state=imported), the blob bytes sent to the server (predicted in check mode); blobs the server
      already had are not counted. With O(state=exported), the blob bytes written to the bundle.
  returned: always
  type: int
blobs_sent:
  description: With O(state=imported), how many blobs were uploaded (would be, in check mode).
  returned: always
  type: int
blobs_present:
  description: With O(state=imported), how many blobs the models need that the server already had.
  returned: always
  type: int
bundle:
  description: The bundle file (O(path)).
  returned: always
  type: str
actions:
  description: What was done (would be, in check mode), one line per model.
  returned: always
  type: list
  elements: str
diff:
  description: The bundle's models on the server (import) or in the bundle file (export), as C(name@digest12), one per line.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Before the task.
      type: str
    after:
      description: After the task (predicted in check mode).
      type: str
"""

import os

from ansible_collections.llmops.ollama.plugins.module_utils._bundle import (
    Bundle,
    BundleError,
    LoopbackRegistry,
    manifest_blob_list,
    write_bundle,
)
from ansible_collections.llmops.ollama.plugins.module_utils._client import (
    OllamaError,
    RegistryError,
    registry_blob,
    registry_manifest_bytes,
)
from ansible_collections.llmops.ollama.plugins.module_utils._common import ModuleFailure, OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils._facts import diff_text, format_bytes, index_tags
from ansible_collections.llmops.ollama.plugins.module_utils._names import parse_name, parse_names, short_digest

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["exported", "imported"], required=True),
    path=dict(type="path", required=True),
    models=dict(type="list", elements="str", aliases=["name"]),
    insecure=dict(type="bool", default=False),
    stall_timeout=dict(type="float", default=300.0),
)

TEMP_NAMESPACE = "llmops-bundle-import"


def bare(digest):
    return (digest or "").split(":", 1)[-1] or None


def line(name, digest):
    return f"{name}@{short_digest(digest)}"


# -------------------------------------------------------------------------------------------------- export

def read_index(path):
    """``[(name key, digest)]`` of an existing bundle at ``path``, or None when there is none readable."""
    if not os.path.exists(path):
        return None
    try:
        bundle = Bundle(path)
    except BundleError:
        return None
    try:
        return [(parse_name(model["name"]).key, model["digest"], model["name"]) for model in bundle.models]
    except ValueError:
        return None
    finally:
        bundle.close()


def export(mod):
    params = mod.params
    if not params["models"]:
        raise ModuleFailure("models is required with state=exported: name the models the bundle must hold")
    names = parse_names(params["models"], "models")
    path = params["path"]
    if os.path.isdir(path):
        raise ModuleFailure(f"path {path} is a directory; give the bundle's file name")
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise ModuleFailure(f"path {path}: the directory {os.path.dirname(os.path.abspath(path))} does not exist")
    models = []
    for name in names:
        try:
            digest, manifest, body = registry_manifest_bytes(name, insecure=params["insecure"],
                                                             timeout=params["timeout"],
                                                             validate_certs=params["validate_certs"])
        except RegistryError as exc:
            raise ModuleFailure(f"Cannot export {name.raw}: {exc}", error=exc.as_dict()) from None
        try:
            blobs = manifest_blob_list(manifest)
        except BundleError as exc:
            raise ModuleFailure(f"Cannot export {name.raw}: the registry's manifest ({digest}): {exc}") from None
        models.append((name, digest, body, blobs))
    existing = read_index(path)
    wanted = [(name.key, digest) for name, digest, dummy, dummy in models]
    changed = existing is None or [(key, digest) for key, digest, dummy in existing] != wanted
    sizes = {}
    for dummy, dummy, dummy, blobs in models:
        sizes.update(blobs)
    total = sum(sizes.values())
    result = {"changed": changed, "bundle": path, "blobs_sent": 0, "blobs_present": 0, "actions": [],
              "models": [{"name": name.short, "digest": digest, "digest_before": None,
                          "action": "exported" if changed else "unchanged",
                          "size": sum(size for dummy, size in blobs)} for name, digest, dummy, blobs in models]}
    if changed:
        verb = "would write" if mod.check_mode else "wrote"
        result["actions"].append(f"{verb} {path}: {len(models)} models, {len(sizes)} blobs, {format_bytes(total)}")
        if not mod.check_mode:
            def fetch(name, digest, size):
                try:
                    response, dummy = registry_blob(name, digest, insecure=params["insecure"],
                                                    timeout=params["stall_timeout"],
                                                    validate_certs=params["validate_certs"])
                except RegistryError as exc:
                    raise ModuleFailure(f"Cannot export {name.raw}: blob {digest}: {exc}; {path} was not written",
                                        error=exc.as_dict()) from None
                return response, response.close
            try:
                write_bundle(path, models, fetch)
            except BundleError as exc:
                raise ModuleFailure(f"Cannot export: {exc}; {path} was not written") from None
            except OSError as exc:
                raise ModuleFailure(f"Cannot write the bundle {path}: {exc}") from None
    result["bytes"] = total if changed else 0
    if mod.diff_mode:
        result["diff"] = {"before": diff_text(line(name, digest) for dummy, digest, name in existing or []),
                          "after": diff_text(line(name.full, digest) for name, digest, dummy, dummy in models)}
    return result


# -------------------------------------------------------------------------------------------------- import

class Importer:
    def __init__(self, mod, bundle):
        self.mod = mod
        self.client = mod.client
        self.bundle = bundle
        self.params = mod.params
        self.started = False  # set before the first request that changes the server

    def selected(self):
        """``[(ModelName, index entry)]`` of the bundle's models to import, in bundle order."""
        entries = []
        for model in self.bundle.models:
            try:
                entries.append((parse_name(model["name"]), model))
            except ValueError as exc:
                raise ModuleFailure(f"{self.bundle.path}: the bundle lists an invalid model name: {exc}") from None
        if not self.params["models"]:
            return entries
        wanted = parse_names(self.params["models"], "models")
        keys = {name.key for name, dummy in entries}
        missing = [name.raw for name in wanted if name.key not in keys]
        if missing:
            raise ModuleFailure(f"models: {', '.join(missing)} not in the bundle {self.bundle.path}, which holds "
                                f"{', '.join(name.short for name, dummy in entries)}")
        wanted_keys = {name.key for name in wanted}
        return [(name, model) for name, model in entries if name.key in wanted_keys]

    def leftovers(self, index):
        """Temporary names an interrupted import left (loopback host, our namespace)."""
        found = []
        for key, item in index.items():
            host, namespace = key[0], key[1]
            if host.startswith("127.0.0.1:") and namespace == TEMP_NAMESPACE:
                found.append(item["name"])
        return found

    def run(self):
        bundle = self.bundle
        entries = self.selected()
        index = index_tags(self.client.tags())
        todo, result_models = [], []
        for name, model in entries:
            current = index.get(name.key)
            before = bare(current.get("digest")) if current else None
            unchanged = before == bare(model["digest"])
            result_models.append({"name": current["name"] if current else name.short, "digest": model["digest"],
                                  "digest_before": before, "size": model.get("size"),
                                  "action": "unchanged" if unchanged else ("updated" if before else "imported")})
            if not unchanged:
                todo.append((name, model, result_models[-1]))
        # Everything the import needs is read and checked before the first request that changes anything.
        manifests, needed = {}, {}
        for name, model, dummy in todo:
            body, blobs = bundle.manifest(model)
            manifests[model["digest"]] = body
            needed.update(blobs)
        present = {digest for digest in needed if self.client.has_blob(digest)}
        send = [digest for digest in needed if digest not in present]
        bundle.check_blobs_there(send)
        for digest in send:
            bundle.check_blob(digest)
        result = {"changed": bool(todo), "bundle": bundle.path, "models": result_models, "actions": [],
                  "bytes": sum(needed[digest] for digest in send), "blobs_sent": len(send),
                  "blobs_present": len(present)}
        verb = "would import" if self.mod.check_mode else "imported"
        for name, model, entry in todo:
            result["actions"].append(f"{verb} {entry['name']}@{short_digest(model['digest'])}"
                                     + (f" (replacing @{short_digest(entry['digest_before'])})"
                                        if entry["digest_before"] else ""))
        if todo:
            result["actions"].append(f"{'would send' if self.mod.check_mode else 'sent'} {len(send)} blobs "
                                     f"({format_bytes(result['bytes'])}); {len(present)} already on the server")
        if self.mod.diff_mode:
            result["diff"] = {
                "before": diff_text(sorted(line(entry["name"], entry["digest_before"]) for entry in result_models
                                           if entry["digest_before"])),
                "after": diff_text(sorted(line(entry["name"], entry["digest"]) for entry in result_models)),
            }
        if self.mod.check_mode or not todo:
            return result
        self.started = True
        for leftover in self.leftovers(index):
            self.client.delete(leftover, missing_ok=True)
            result["actions"].append(f"deleted {leftover}, left by an interrupted import")
        for digest in send:
            reader = bundle.open_blob(digest)
            self.client.upload_blob(digest, reader, needed[digest], stall_timeout=self.params["stall_timeout"])
            if reader.digest() != digest:  # the file changed between the check and the upload
                raise ModuleFailure(f"{bundle.path}: blob {digest} changed while it was uploaded; the server "
                                    "refused it or holds it under another digest; no model was changed")
        self.publish(todo)
        after = index_tags(self.client.tags())
        for name, model, entry in todo:
            got = bare((after.get(name.key) or {}).get("digest"))
            if got is None:
                raise ModuleFailure(f"Ollama at {self.client.base_url} did not list {entry['name']} after the import")
            if got != bare(model["digest"]):
                self.mod.warn(f"{entry['name']}: Ollama stored its manifest with digest {short_digest(got)}, the "
                              f"bundle's is {short_digest(model['digest'])} (older Ollama releases, 0.12.6 for "
                              "one, re-encode pulled manifests; a pull from the registry gives the same)")
                entry["digest"] = "sha256:" + got
        return result

    def publish(self, todo):
        """Make the manifests visible: pull each from a loopback registry under a temporary name, copy it to the
        real name (the last step, byte for byte), delete the temporary name."""
        served = {(TEMP_NAMESPACE, f"model-{number}", "latest"): self.bundle_manifest(model)
                  for number, (name, model, dummy) in enumerate(todo)}
        with LoopbackRegistry(served) as registry:
            for number, (name, model, entry) in enumerate(todo):
                temp = f"{registry.host}/{TEMP_NAMESPACE}/model-{number}:latest"
                try:
                    try:
                        for dummy in self.client.pull(temp, insecure=True, stall_timeout=self.params["stall_timeout"]):
                            pass
                    except OllamaError as exc:
                        raise ModuleFailure(f"Ollama at {self.client.base_url} could not take the manifest of "
                                            f"{entry['name']} from the module's loopback registry "
                                            f"(http://{registry.host}; the import must run on the Ollama host): "
                                            f"{exc}", error=exc.as_dict()) from None
                    self.client.copy(temp, name.full)
                finally:
                    self.client.delete(temp, missing_ok=True)

    def bundle_manifest(self, model):
        return self.bundle.manifest(model)[0]


def import_bundle(mod):
    path = mod.params["path"]
    if not os.path.isfile(path):
        raise ModuleFailure(f"path {path}: no such bundle file on this host")
    try:
        bundle = Bundle(path)
    except BundleError as exc:
        raise ModuleFailure(f"{exc}; nothing was changed") from None
    importer = Importer(mod, bundle)
    try:
        return importer.run()
    except BundleError as exc:
        done = "; nothing was changed" if not importer.started else ""
        raise ModuleFailure(f"{exc}{done}") from None
    finally:
        bundle.close()


def manage(mod):
    if mod.params["stall_timeout"] <= 0:
        raise ModuleFailure(f"stall_timeout must be greater than 0, got {mod.params['stall_timeout']:g}")
    if mod.params["state"] == "exported":
        return export(mod)
    return import_bundle(mod)


def main():
    OllamaModule(ARGUMENT_SPEC).run(manage)


if __name__ == "__main__":
    main()
