# Copyright (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Model bundles: one tar file holding registry manifests byte for byte, their blobs, and an index.

Layout (an uncompressed tar, so any member can be read without unpacking the rest)::

    index.json                      {"format": "llmops.ollama/bundle", "version": 1, "models": [...], "blobs": [...]}
    manifests/sha256-<hex>          a manifest exactly as the registry served it (its sha256 is its digest)
    blobs/sha256-<hex>              a layer or config blob (its sha256 is its digest)

``index.json`` comes first; each model is ``{"name": host/namespace/model:tag, "digest": sha256:..,
"manifest": member, "size": bytes of its blobs, "blobs": [digests]}``, each blob ``{"digest", "size", "path"}``.
Also here: the loopback registry that serves a bundle's manifests to Ollama's own pull.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import tempfile
import threading

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover - Python 3.7+ has both
    BaseHTTPRequestHandler = object
    ThreadingHTTPServer = None

FORMAT = "llmops.ollama/bundle"
FORMAT_VERSION = 1
INDEX = "index.json"
MAX_INDEX_BYTES = 16 << 20
MAX_MANIFEST_BYTES = 16 << 20
_CHUNK = 1 << 20
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class BundleError(Exception):
    """A bundle that cannot be used as it is (missing, not a bundle, damaged, a blob that fails its check)."""


def blob_member(digest):
    return "blobs/" + digest.replace(":", "-")


def manifest_member(digest):
    return "manifests/" + digest.replace(":", "-")


def manifest_blob_list(manifest):
    """``[(digest, size)]`` of a manifest's layers and config, in manifest order; BundleError when malformed."""
    items = list(manifest.get("layers") or []) if isinstance(manifest, dict) else []
    if isinstance(manifest, dict) and manifest.get("config"):
        items.append(manifest["config"])
    found = []
    for item in items:
        digest = item.get("digest") if isinstance(item, dict) else None
        size = item.get("size") if isinstance(item, dict) else None
        if not isinstance(digest, str) or not _DIGEST.match(digest) or not isinstance(size, int) or size < 0:
            raise BundleError(f"the manifest lists a blob without a sha256 digest and size: {item!r:.200}")
        if digest not in [known for known, dummy in found]:
            found.append((digest, size))
    if not found:
        raise BundleError("the manifest lists no blobs")
    return found


class _Reader:
    """Exactly ``size`` bytes of ``fp``, hashed on the way; ``digest()`` once read to the end."""

    def __init__(self, fp, size):
        self.fp = fp
        self.left = size
        self.hash = hashlib.sha256()

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        want = self.left if size is None or size < 0 else min(size, self.left)
        data = b""
        while len(data) < want:  # a network answer may return less than asked before its end
            chunk = self.fp.read(want - len(data))
            if not chunk:
                break
            data += chunk
        self.left -= len(data)
        self.hash.update(data)
        return data

    def digest(self):
        return "sha256:" + self.hash.hexdigest()


class Bundle:
    """A bundle file opened for reading: its index parsed and checked, its members located, nothing hashed yet.

    A tar that ends early (a truncated copy) or whose header is damaged is read up to that point; what is
    missing is reported when a model that needs it is used (``check_blob``/``manifest``), naming the blob.
    """

    def __init__(self, path):
        self.path = path
        try:
            self.size = os.path.getsize(path)
            self._tar = tarfile.open(path, "r:")
        except OSError as exc:
            raise BundleError(f"cannot read the bundle {path}: {exc.strerror or exc}") from None
        except tarfile.TarError as exc:
            raise BundleError(f"{path} is not a bundle (not a tar file: {exc})") from None
        self.members = {}
        self.damage = None
        try:
            while True:
                member = self._tar.next()
                if member is None:
                    break
                self.members[member.name] = member
        except (tarfile.TarError, OSError, EOFError) as exc:
            self.damage = f"the tar is damaged after {len(self.members)} members ({exc})"
        index = self._read(INDEX, MAX_INDEX_BYTES, "the index")
        try:
            data = json.loads(index.decode("utf-8"))
        except ValueError as exc:
            raise BundleError(f"{path}: index.json is not JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BundleError(f"{path} is not a model bundle (index.json has no format {FORMAT!r})")
        if data.get("version") != FORMAT_VERSION:
            raise BundleError(f"{path}: bundle format version {data.get('version')!r} is not supported (this "
                              f"collection reads version {FORMAT_VERSION})")
        self.blobs = {}
        for item in data.get("blobs") or []:
            if not isinstance(item, dict) or not _DIGEST.match(str(item.get("digest"))) or \
                    not isinstance(item.get("size"), int):
                raise BundleError(f"{path}: index.json lists a malformed blob: {item!r:.200}")
            self.blobs[item["digest"]] = item["size"]
        self.models = []
        for item in data.get("models") or []:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or \
                    not _DIGEST.match(str(item.get("digest"))) or not isinstance(item.get("blobs"), list):
                raise BundleError(f"{path}: index.json lists a malformed model: {item!r:.200}")
            missing = [digest for digest in item["blobs"] if digest not in self.blobs]
            if missing:
                raise BundleError(f"{path}: index.json lists blob {missing[0]} for {item['name']} but not among "
                                  "its blobs")
            self.models.append(item)
        if not self.models:
            raise BundleError(f"{path}: the bundle holds no models")

    def close(self):
        self._tar.close()

    def _member(self, name, what):
        member = self.members.get(name)
        if member is None:
            why = f"; {self.damage}" if self.damage else " (a truncated or incomplete copy?)"
            raise BundleError(f"{self.path}: {what} ({name}) is missing from the bundle{why}")
        if member.offset_data + member.size > self.size:
            raise BundleError(f"{self.path}: {what} ({name}) is cut short: the bundle ends "
                              f"{member.offset_data + member.size - self.size} bytes before its end (a truncated "
                              "copy?)")
        return member

    def _read(self, name, limit, what):
        member = self._member(name, what)
        if member.size > limit:
            raise BundleError(f"{self.path}: {what} ({name}) is larger than {limit} bytes")
        return self._tar.extractfile(member).read()

    def manifest(self, model):
        """The manifest bytes of ``model`` (an index entry), its digest checked; and its ``[(digest, size)]``."""
        digest = model["digest"]
        body = self._read(model.get("manifest") or manifest_member(digest), MAX_MANIFEST_BYTES,
                          f"the manifest of {model['name']}")
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if actual != digest:
            raise BundleError(f"{self.path}: the manifest of {model['name']} is damaged: its sha256 is {actual}, "
                              f"the index says {digest}")
        try:
            parsed = json.loads(body.decode("utf-8"))
        except ValueError:
            raise BundleError(f"{self.path}: the manifest of {model['name']} is not JSON") from None
        blobs = manifest_blob_list(parsed)
        for blob, size in blobs:
            if self.blobs.get(blob) != size:
                raise BundleError(f"{self.path}: the manifest of {model['name']} lists blob {blob} ({size} bytes), "
                                  "which the index does not list with that size")
        return body, blobs

    def open_blob(self, digest):
        """A reader of exactly the blob's bytes (hashing them as they are read)."""
        member = self._member(blob_member(digest), f"blob {digest}")
        if member.size != self.blobs[digest]:
            raise BundleError(f"{self.path}: blob {digest} holds {member.size} bytes, the index says "
                              f"{self.blobs[digest]}")
        return _Reader(self._tar.extractfile(member), member.size)

    def check_blobs_there(self, digests):
        """Before hashing anything: BundleError listing every blob of ``digests`` that is missing or cut short."""
        problems = []
        for digest in digests:
            try:
                self.open_blob(digest)
            except BundleError as exc:
                problems.append(str(exc).replace(f"{self.path}: ", "", 1))
        if problems:
            raise BundleError(f"{self.path}: " + "; ".join(problems))

    def check_blob(self, digest):
        """Read the blob to the end and compare its sha256 with its name; BundleError naming it otherwise."""
        reader = self.open_blob(digest)
        try:
            while reader.read(_CHUNK):
                pass
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise BundleError(f"{self.path}: blob {digest} cannot be read to its end ({exc})") from None
        if reader.left or reader.digest() != digest:
            what = f"{reader.left} bytes short" if reader.left else f"its sha256 is {reader.digest()}"
            raise BundleError(f"{self.path}: blob {digest} is damaged ({what})")


# -------------------------------------------------------------------------------------------------- writing

def _info(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    return info


def write_bundle(path, models, fetch_blob):
    """Write the bundle atomically: a temporary file next to ``path``, renamed over it when complete.

    ``models``: ``[(ModelName, digest, manifest bytes, [(blob digest, size)])]``. ``fetch_blob(name, digest,
    size)`` returns ``(fileobj, close)``; every blob is hashed while written and must match its digest, else
    BundleError names it and ``path`` is untouched. Returns the number of blob bytes written.
    """
    blobs = {}
    entries = []
    for name, digest, body, blob_list in models:
        for blob, size in blob_list:
            blobs.setdefault(blob, (name, size))
        entries.append({"name": name.full, "digest": digest, "manifest": manifest_member(digest),
                        "size": sum(size for dummy, size in blob_list), "blobs": [blob for blob, dummy in blob_list]})
    index = {"format": FORMAT, "version": FORMAT_VERSION, "models": entries,
             "blobs": [{"digest": blob, "size": size, "path": blob_member(blob)}
                       for blob, (dummy, size) in sorted(blobs.items())]}
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".tmp", dir=directory)
    written = 0
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(index, indent=1, sort_keys=True).encode("utf-8") + b"\n"
            tar.addfile(_info(INDEX, len(data)), _BytesReader(data))
            done = set()
            for name, digest, body, dummy in models:
                if digest not in done:
                    done.add(digest)
                    tar.addfile(_info(manifest_member(digest), len(body)), _BytesReader(body))
            for blob, (name, size) in sorted(blobs.items()):
                fileobj, close = fetch_blob(name, blob, size)
                try:
                    reader = _Reader(fileobj, size)
                    try:
                        tar.addfile(_info(blob_member(blob), size), reader)
                    except OSError as exc:
                        raise BundleError(f"blob {blob} of {name.short}: the download ended early ({exc})") from None
                    if fileobj.read(1):
                        raise BundleError(f"blob {blob} of {name.short}: the registry sent more than its {size} "
                                          "bytes")
                finally:
                    close()
                if reader.digest() != blob:
                    raise BundleError(f"blob {blob} of {name.short}: the registry sent data whose sha256 is "
                                      f"{reader.digest()}; the bundle was not written")
                written += size
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return written


class _BytesReader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, size=-1):
        end = len(self.data) if size is None or size < 0 else self.pos + size
        chunk = self.data[self.pos:end]
        self.pos += len(chunk)
        return chunk


# -------------------------------------------------------------------------------------------------- loopback registry

class LoopbackRegistry:
    """A read-only registry on 127.0.0.1 serving manifests (``{(namespace, model, tag): bytes}``) for one pull.

    Answers ``GET``/``HEAD /v2/`` and ``/v2/<namespace>/<model>/manifests/<tag>`` (200, with the media type the
    manifest names and ``Docker-Content-Digest``); everything else, blobs included, is 404: the blobs are
    uploaded through ``/api/blobs`` before any pull, so Ollama never needs them from here. ``requests`` records
    ``(method, path, status)``.
    """

    def __init__(self, manifests):
        self.manifests = {"/v2/{}/{}/manifests/{}".format(*key): body for key, body in manifests.items()}
        self.requests = []
        self.server = None
        self.thread = None

    @property
    def host(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, send_body):
                path = self.path.split("?", 1)[0]
                body = registry.manifests.get(path)
                if path in ("/v2", "/v2/"):
                    status, body, kind = 200, b"{}", "application/json"
                elif body is None:
                    status, body, kind = 404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', "application/json"
                else:
                    status = 200
                    try:
                        kind = json.loads(body.decode("utf-8")).get("mediaType")
                    except (ValueError, AttributeError):
                        kind = None
                    kind = kind or "application/vnd.docker.distribution.manifest.v2+json"
                registry.requests.append((self.command, path, status))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if status == 200 and path not in ("/v2", "/v2/"):
                    self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - the name http.server calls
                self._answer(True)

            def do_HEAD(self):  # noqa: N802
                self._answer(False)

            def log_message(self, *args):  # a module's stderr is not a log
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1})
        self.thread.daemon = True
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        return False
