"""Trained models for an installed tfzoo: download, verify, cache and load published SavedModels.

The checkout's ``savedmodels/<preset>/`` directories are not part of the wheel. Each preset whose
trained model is published has ``Preset.pretrained``, an :class:`tfzoo.registry.Artifact` (the URL,
SHA-256 and size of a ``.tar.gz`` release asset made by :func:`pack`). :func:`download` fetches the
archive, checks its size and SHA-256 before anything enters the cache, extracts it safely and
moves it into place in one rename; :func:`load_pretrained` returns ``tf.saved_model.load`` of it.

Example:
    >>> import tfzoo.pretrained as pretrained
    >>> pretrained.find("no-such-model") is None
    True
    >>> path = pretrained.download("realnvp-mnist")          # doctest: +SKIP
    >>> loaded = pretrained.load_pretrained("realnvp-mnist")  # doctest: +SKIP
    >>> loaded.log_prob(tf.zeros([1, 28, 28, 1]))             # doctest: +SKIP
    >>> [m["name"] for m in pretrained.list_pretrained()]     # doctest: +SKIP

Where models are looked for (:func:`find`), in this order:

1. the cache, ``<cache>/pretrained/<name>/``, where ``<cache>`` (:func:`cache_dir`) is
   ``$TFZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/tfzoo``, else ``~/.cache/tfzoo``. A cached model
   counts only once its marker file ``.complete`` (the archive's SHA-256, written before the
   directory is renamed into place) is there, and only while that SHA-256 is the preset's current
   one: a re-published model is downloaded again.
2. a checkout's ``savedmodels/<name>/``, when tfzoo runs from a source checkout (the package's
   parent directory holds ``setup.cfg`` and ``savedmodels/``); never for an installed wheel.

Artifact URLs may hold ``{base}``, replaced by ``$TFZOO_PRETRAINED_BASE_URL`` when it is set (a
mirror, an internal server, a local ``file://`` folder of archives) and otherwise by
:data:`DEFAULT_BASE_URL` with ``{version}`` = ``tfzoo.__version__``. Only ``http``, ``https`` and
``file`` URLs are fetched. Every failure to get a verified archive (network error, HTTP error,
wrong size or SHA-256, an unsafe archive) raises :class:`DownloadError` and leaves nothing in the
cache.

Publishing the checkout's models (maintainers): ``tfzoo pretrained pack`` (:func:`pack_checkout`)
packs every ``savedmodels/<name>/`` into ``dist/pretrained/<name>.tar.gz`` (the release assets to
upload) and rewrites :mod:`tfzoo.published`, the table of their Artifacts that the registry attaches
to the presets (``Preset.pretrained``)::

    sha256, size = pack("savedmodels/realnvp-mnist", "dist/pretrained/realnvp-mnist.tar.gz")
    Artifact(url="{base}/realnvp-mnist.tar.gz", sha256=sha256, size_bytes=size)

``pack`` is deterministic (sorted entries, zeroed times and owners, fixed modes, a gzip header
without time or file name), so the same directory always gives the same SHA-256.

This module imports no TensorFlow until :func:`load_pretrained` is called.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib

import tfzoo
from tfzoo import registry

__all__ = ["DEFAULT_BASE_URL", "DownloadError", "cache_dir", "download", "find", "list_pretrained",
           "load_pretrained", "pack", "pack_checkout"]

DEFAULT_BASE_URL = "https://github.com/tfzoo/tfzoo/releases/download/v{version}"
BASE_URL_ENV = "TFZOO_PRETRAINED_BASE_URL"
CACHE_DIR_ENV = "TFZOO_CACHE_DIR"
MARKER_FILE = ".complete"
_SCHEMES = ("http", "https", "file")
_CHUNK = 1 << 20
_TIMEOUT_SECONDS = 60
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_HINT = (f"Set {BASE_URL_ENV} to a mirror holding the release archives (http(s):// or file://), "
         "or use a tfzoo source checkout, whose savedmodels/ holds the trained models.")


class DownloadError(OSError):
    """A trained model could not be fetched and verified; nothing was left in the cache."""


# ----------------------------------------------------------------------------------------------
# Packing (maintainers)


def _tarinfo(arcname: str, *, is_dir: bool, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(arcname)
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.mode = 0o755 if is_dir else 0o644
    info.size = 0 if is_dir else size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def pack(savedmodel_dir, archive_path) -> tuple[str, int]:
    """Writes ``savedmodel_dir`` as a deterministic ``.tar.gz``; returns ``(sha256, size_bytes)``.

    The archive holds one top-level folder named after the directory (the preset, for
    ``savedmodels/<preset>``), its entries sorted, with mtime 0, uid/gid 0, empty owner names, mode
    0o644 for files and 0o755 for folders, in a gzip stream without time or file name: the same
    directory gives the same bytes whatever its files' times, owners or modes. Symbolic links are
    refused; a cache marker file (``.complete``) and empty folders (which git does not keep, e.g. a
    SavedModel's empty ``assets/``) are left out, so a fresh clone packs to the same bytes.
    """
    savedmodel_dir = os.path.abspath(os.fspath(savedmodel_dir))
    archive_path = os.path.abspath(os.fspath(archive_path))
    if not os.path.isfile(os.path.join(savedmodel_dir, "saved_model.pb")):
        raise ValueError(f"{savedmodel_dir} is not a SavedModel directory (no saved_model.pb)")
    top = os.path.basename(savedmodel_dir.rstrip(os.sep))
    entries = {}  # archive name -> (absolute path, is_dir)
    for root, dirs, files in os.walk(savedmodel_dir):
        dirs.sort()
        rel_root = os.path.relpath(root, savedmodel_dir)
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            if os.path.islink(path):
                raise ValueError(f"{path} is a symbolic link; a packed model holds files only")
            if os.path.isdir(path) or (rel_root == "." and name == MARKER_FILE):
                continue
            rel = name if rel_root == "." else os.path.join(rel_root, name)
            parts = rel.split(os.sep)
            for depth in range(1, len(parts)):  # the folders holding the file
                folder = "/".join(parts[:depth])
                entries[f"{top}/{folder}"] = (os.path.join(savedmodel_dir, *parts[:depth]), True)
            entries[f"{top}/{'/'.join(parts)}"] = (path, False)
    entries = sorted((name, path, is_dir) for name, (path, is_dir) in entries.items())

    os.makedirs(os.path.dirname(archive_path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(archive_path), prefix=".pack-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
                with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    tar.addfile(_tarinfo(top, is_dir=True))
                    for arcname, path, is_dir in entries:
                        if is_dir:
                            tar.addfile(_tarinfo(arcname, is_dir=True))
                        else:
                            with open(path, "rb") as f:
                                tar.addfile(_tarinfo(arcname, is_dir=False, size=os.path.getsize(path)), f)
        sha256, size = _hash_file(tmp)
        os.replace(tmp, archive_path)
    except BaseException:
        _remove(tmp)
        raise
    return sha256, size


def _hash_file(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


# ----------------------------------------------------------------------------------------------
# Where models are


def cache_dir() -> str:
    """``$TFZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/tfzoo``, else ``~/.cache/tfzoo``."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.abspath(os.path.join(os.path.expanduser(xdg), "tfzoo"))
    return os.path.join(os.path.expanduser("~"), ".cache", "tfzoo")


def _pretrained_root() -> str:
    return os.path.join(cache_dir(), "pretrained")


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a model name must be a string such as 'mlp-mnist', got {type(name).__name__}")
    if not _NAME.match(name) or ".." in name:
        raise ValueError(f"{name!r} is not a model name (lower-case letters, digits, '-' and '.')")
    return name


def _base_url() -> str:
    base = os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL.format(version=tfzoo.__version__)
    return base.rstrip("/")


def _resolve(url: str) -> str:
    return url.replace("{base}", _base_url())


def _checkout_root() -> str | None:
    """The source checkout tfzoo runs from (holding ``setup.cfg`` and ``savedmodels/``), or None.

    Walks up from the package directory to the first folder holding a ``setup.cfg`` (a project
    root); it is the checkout when it also holds ``savedmodels/`` and its ``setup.cfg`` names
    tfzoo. An installed wheel (``site-packages/tfzoo``) has no such folder above it.
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(tfzoo.__file__)))
    while True:
        setup_cfg = os.path.join(here, "setup.cfg")
        if os.path.isfile(setup_cfg):
            try:
                with open(setup_cfg, encoding="utf-8") as f:
                    names_tfzoo = re.search(r"^name\s*=\s*tfzoo\s*$", f.read(), re.M) is not None
            except OSError:
                names_tfzoo = False
            if names_tfzoo and os.path.isdir(os.path.join(here, "savedmodels")):
                return here
            return None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _read_marker(path: str) -> dict | None:
    try:
        with open(os.path.join(path, MARKER_FILE), encoding="utf-8") as f:
            marker = json.load(f)
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("sha256"), str) else None


def _artifact_or_none(name: str):
    try:
        return registry.get_preset(name).pretrained
    except registry.UnknownModelError:
        return None


def _cached(name: str, artifact=None) -> str | None:
    """The complete cache directory of ``name`` (matching ``artifact``'s SHA-256 when given)."""
    path = os.path.join(_pretrained_root(), name)
    marker = _read_marker(path)
    if marker is None or not os.path.isfile(os.path.join(path, "saved_model.pb")):
        return None
    if artifact is not None and marker["sha256"] != artifact.sha256:
        return None  # an older publication of the model
    return path


def _in_checkout(name: str) -> str | None:
    root = _checkout_root()
    if root is None:
        return None
    path = os.path.join(root, "savedmodels", name)
    return path if os.path.isfile(os.path.join(path, "saved_model.pb")) else None


def find(name: str) -> str | None:
    """The local directory of the trained model ``name``: the cache, then a checkout; or None.

    A cached copy counts only when complete (marker present) and, for a preset with an
    :class:`~tfzoo.registry.Artifact`, only when it is that artifact's (same SHA-256).
    """
    _check_name(name)
    return _cached(name, _artifact_or_none(name)) or _in_checkout(name)


# ----------------------------------------------------------------------------------------------
# Downloading


def _remove(path):
    if path is None:
        return
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def _artifact(name: str):
    preset = registry.get_preset(name)  # unknown -> UnknownModelError with close names
    if preset.pretrained is None:
        published = [n for n in registry.list_models() if registry.get_preset(n).pretrained is not None]
        listed = ", ".join(published) if published else "none yet"
        local = _in_checkout(name)
        where = (f" This checkout holds one at {local} (tfzoo.pretrained.load_pretrained uses it)."
                 if local else f" Train it instead: python -m tfzoo train {name}.")
        raise ValueError(f"preset {name!r} has no published trained model (Preset.pretrained is None); "
                         f"presets with one: {listed}.{where}")
    return preset.pretrained


class _Progress:
    def __init__(self, name, url, total, enabled):
        self.name, self.total, self.enabled = name, total, enabled
        self.tty = enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.shown = -1
        if enabled:
            print(f"Downloading {name} ({total / 2**20:.1f} MiB) from {url}", file=sys.stderr, flush=True)

    def update(self, done):
        if not self.tty:
            return
        percent = int(100 * done / self.total) if self.total else 100
        if percent != self.shown:
            self.shown = percent
            print(f"\r  {percent:3d}%  {done / 2**20:.1f}/{self.total / 2**20:.1f} MiB",
                  end="", file=sys.stderr, flush=True)

    def close(self):
        if self.tty:
            print(file=sys.stderr, flush=True)


def _fetch(url: str, destination, artifact, name: str, progress: bool) -> None:
    """Streams ``url`` into the open file ``destination``; checks size and SHA-256."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES:
        raise DownloadError(f"cannot download {name} from {url}: only {', '.join(_SCHEMES)} URLs are "
                            f"supported. {_HINT}")
    digest, size = hashlib.sha256(), 0
    bar = _Progress(name, url, artifact.size_bytes, progress)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": f"tfzoo/{tfzoo.__version__}"})
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != artifact.size_bytes:
                raise DownloadError(
                    f"{url} offers {int(length)} bytes but the {name} archive has "
                    f"{artifact.size_bytes} (expected sha256 {artifact.sha256}): a different or "
                    f"damaged file. {_HINT}")
            while True:
                block = response.read(_CHUNK)
                if not block:
                    break
                size += len(block)
                if size > artifact.size_bytes:
                    raise DownloadError(f"{url} sent more than the expected {artifact.size_bytes} "
                                        f"bytes of the {name} archive (expected sha256 "
                                        f"{artifact.sha256}). {_HINT}")
                digest.update(block)
                destination.write(block)
                bar.update(size)
    except DownloadError:
        raise
    except urllib.error.HTTPError as e:
        raise DownloadError(f"cannot download {name} from {url}: HTTP {e.code} {e.reason}. {_HINT}") from e
    except urllib.error.URLError as e:
        raise DownloadError(f"cannot download {name} from {url}: {e.reason}. {_HINT}") from e
    except (http.client.HTTPException, socket.timeout, OSError) as e:
        reason = "timed out" if isinstance(e, (socket.timeout, TimeoutError)) else f"{type(e).__name__}: {e}"
        raise DownloadError(f"cannot download {name} from {url} ({reason}; got {size} of "
                            f"{artifact.size_bytes} bytes). {_HINT}") from e
    finally:
        bar.close()
    actual = digest.hexdigest()
    if size != artifact.size_bytes or actual != artifact.sha256:
        what = "truncated" if size < artifact.size_bytes else "corrupted or a different file"
        raise DownloadError(
            f"the {name} archive from {url} is {what}: expected {artifact.size_bytes} bytes with "
            f"sha256 {artifact.sha256}, got {size} bytes with sha256 {actual}. Nothing was cached. {_HINT}")


def _safe_members(tar: tarfile.TarFile, url: str) -> tuple[str, list]:
    """The archive's single top-level folder and its members; refuses anything unsafe."""
    members, tops = tar.getmembers(), set()
    for m in members:
        name = m.name
        parts = name.split("/")
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
            raise DownloadError(f"refusing the archive from {url}: member {name!r} has an absolute path")
        if ".." in parts:
            raise DownloadError(f"refusing the archive from {url}: member {name!r} leaves the "
                                "extraction folder (path traversal)")
        if not (m.isfile() or m.isdir()):
            kind = "a link" if (m.issym() or m.islnk()) else "not a file or folder"
            raise DownloadError(f"refusing the archive from {url}: member {name!r} is {kind}")
        parts = [p for p in parts if p not in ("", ".")]
        if not parts:
            continue
        tops.add(parts[0])
        if len(parts) == 1 and not m.isdir():
            raise DownloadError(f"refusing the archive from {url}: {name!r} is not inside one folder")
    if len(tops) != 1:
        raise DownloadError(f"refusing the archive from {url}: expected one top-level folder, found "
                            f"{sorted(tops) or 'none'}")
    return tops.pop(), members


def _extract(archive: str, into: str, url: str) -> str:
    """Extracts the verified ``archive`` below ``into``; returns the model folder."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            top, members = _safe_members(tar, url)
            root = os.path.realpath(into)
            for m in members:
                parts = [p for p in m.name.split("/") if p not in ("", ".")]
                target = os.path.realpath(os.path.join(root, *parts)) if parts else root
                if os.path.commonpath([root, target]) != root:
                    raise DownloadError(f"refusing the archive from {url}: member {m.name!r} leaves "
                                        "the extraction folder")
                if m.isdir():
                    os.makedirs(target, mode=0o755, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                source = tar.extractfile(m)
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
                os.chmod(target, 0o644)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DownloadError(f"the archive from {url} is not a readable .tar.gz: {e}") from e
    model = os.path.join(into, top)
    if not os.path.isfile(os.path.join(model, "saved_model.pb")):
        raise DownloadError(f"the archive from {url} holds no SavedModel ({top}/saved_model.pb missing)")
    return model


def download(name: str, *, url: str | None = None, force: bool = False, progress: bool = True) -> str:
    """Downloads, verifies and caches the trained model ``name``; returns its cache directory.

    Args:
        name: a preset with an :class:`~tfzoo.registry.Artifact` (unknown names raise
            :class:`~tfzoo.registry.UnknownModelError`; a preset without one, ``ValueError``).
        url: fetch from here instead of the artifact's URL (still checked against its SHA-256);
            ``{base}`` is replaced as in artifact URLs.
        force: download again even when the cache holds this artifact.
        progress: report the download on standard error.

    The archive is streamed into a temporary file in the cache folder and its size and SHA-256 are
    checked before it is extracted (into a temporary folder there, refusing absolute paths, ``..``
    and links) and renamed into ``<cache>/pretrained/<name>``. Any failure raises
    :class:`DownloadError` and leaves neither the temporary files nor a partial model.
    """
    _check_name(name)
    artifact = _artifact(name)
    if not force:
        cached = _cached(name, artifact)
        if cached is not None:
            return cached
    source = _resolve(url if url is not None else artifact.url)
    root = _pretrained_root()
    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, name)
    part = workdir = old = None
    try:
        fd, part = tempfile.mkstemp(dir=root, prefix=f".{name}-", suffix=".tar.gz.part")
        with os.fdopen(fd, "wb") as f:
            _fetch(source, f, artifact, name, progress)
        workdir = tempfile.mkdtemp(dir=root, prefix=f".{name}-", suffix=".extract")
        model = _extract(part, workdir, source)
        _remove(part)
        part = None
        with open(os.path.join(model, MARKER_FILE), "w", encoding="utf-8") as f:
            json.dump({"sha256": artifact.sha256, "size_bytes": artifact.size_bytes, "url": source}, f)
        os.chmod(model, 0o755)
        if os.path.lexists(target):
            if not force and _cached(name, artifact) is not None:  # another process finished first
                return target
            old = tempfile.mkdtemp(dir=root, prefix=f".{name}-", suffix=".old")
            os.replace(target, os.path.join(old, name))
        os.rename(model, target)  # the complete folder, marker included, appears at once
        return target
    finally:
        _remove(part)
        _remove(workdir)
        _remove(old)


# ----------------------------------------------------------------------------------------------
# Loading and listing


def load_pretrained(name: str, *, download_if_missing: bool = True):
    """``tf.saved_model.load`` of the trained model ``name`` (see :func:`find`), downloading it
    into the cache when no local copy exists and ``download_if_missing`` is true.

    Keep a reference to the returned object while using its endpoints: it owns the variables.
    """
    path = find(name)
    if path is None:
        if not download_if_missing:
            raise FileNotFoundError(
                f"no local copy of the trained model {name!r} (looked in "
                f"{os.path.join(_pretrained_root(), name)} and a checkout's savedmodels/); call "
                f"tfzoo.pretrained.download({name!r}) or pass download_if_missing=True")
        path = download(name)
    import tensorflow as tf

    return tf.saved_model.load(path)


def _disk_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, files in os.walk(path) for f in files)


def list_pretrained() -> list[dict]:
    """Every preset with a published artifact or a local copy, sorted by name.

    Each entry: ``name``; ``where`` (``"cache"``, ``"checkout"`` or ``"remote"``: published but not
    downloaded); ``path`` (the local copy, or None); ``url`` (the resolved artifact URL, or None);
    ``sha256`` and ``size_bytes`` (of the archive: the artifact's, or a cached copy's marker; None
    for a checkout copy without artifact); ``disk_bytes`` (of the local copy, or None).
    """
    entries = []
    for name in registry.list_models():
        artifact = registry.get_preset(name).pretrained
        cached = _cached(name, artifact)
        path = cached or _in_checkout(name)
        if artifact is None and path is None:
            continue
        marker = _read_marker(cached) if cached else None
        entries.append({
            "name": name,
            "where": "cache" if cached else ("checkout" if path else "remote"),
            "path": path,
            "url": _resolve(artifact.url) if artifact else None,
            "sha256": artifact.sha256 if artifact else (marker or {}).get("sha256"),
            "size_bytes": artifact.size_bytes if artifact else (marker or {}).get("size_bytes"),
            "disk_bytes": _disk_bytes(path) if path else None,
        })
    return entries


def pack_checkout(into: str = os.path.join("dist", "pretrained")) -> dict:
    """Packs every model of the checkout's ``savedmodels/`` into ``into`` and rewrites the Artifact
    table :mod:`tfzoo.published`; returns ``{name: Artifact}``. Only from a source checkout."""
    root = _checkout_root()
    if root is None:
        raise RuntimeError("tfzoo pretrained pack runs from a source checkout (with setup.cfg and savedmodels/)")
    artifacts = {}
    for name in sorted(os.listdir(os.path.join(root, "savedmodels"))):
        directory = os.path.join(root, "savedmodels", name)
        if name in registry.list_models() and os.path.exists(os.path.join(directory, "saved_model.pb")):
            sha256, size = pack(directory, os.path.join(into, f"{name}.tar.gz"))
            artifacts[name] = registry.Artifact(url=f"{{base}}/{name}.tar.gz", sha256=sha256, size_bytes=size)
    rows = "".join(f"    {name!r}: Artifact({a.url!r}, {a.sha256!r}, {a.size_bytes}),\n"
                   for name, a in artifacts.items())
    table = (f'"""The published trained models: release assets made by ``tfzoo pretrained pack`` from\n'
             f'``savedmodels/`` (generated; do not edit). The registry attaches each to its preset.\n"""\n\n'
             f"from tfzoo.registry import Artifact\n\nARTIFACTS = {{\n{rows}}}\n")
    with open(os.path.join(root, "tfzoo", "published.py"), "w") as f:
        f.write(table)
    return artifacts
