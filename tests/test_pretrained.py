"""Published trained models: deterministic packing, verified downloads into the cache, and a wheel
installed outside the checkout getting a trained model from a loopback server.

Every server here listens on 127.0.0.1 only; test presets are added to the registry for one test
(``monkeypatch``) and removed after it.
"""

import dataclasses
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile

import pytest

import tfzoo
from tfzoo import pretrained, registry
from tfzoo.registry import Artifact, Preset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = os.path.join(REPO, "savedmodels", "lenet-mnist")  # 150 KiB
FLOW = os.path.join(REPO, "savedmodels", "realnvp-mnist")
NAME = "testpack-mnist"


# ----------------------------------------------------------------------------------------------
# A loopback server


class _Server:
    """Serves ``files[path]`` on 127.0.0.1; ``modes[path]``: "short" (honest short body) or "lie"
    (a Content-Length of the whole file, then half of it and a closed connection)."""

    def __init__(self):
        self.files, self.modes, self.requests = {}, {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                mode = server.modes.get(self.path)
                sent = body[: len(body) // 2] if mode in ("short", "lie") else body
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body) if mode == "lie" else len(sent)))
                self.end_headers()
                self.wfile.write(sent)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        self.files.clear()
        self.modes.clear()
        self.requests.clear()

    def count(self, path):
        return self.requests.count(path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def server():
    s = _Server()
    yield s
    s.close()


@pytest.fixture
def env(server, tmp_path, monkeypatch):
    """An empty cache in tmp and the loopback server as the base URL."""
    server.reset()
    cache = tmp_path / "cache"
    monkeypatch.setenv("TFZOO_CACHE_DIR", str(cache))
    monkeypatch.setenv("TFZOO_PRETRAINED_BASE_URL", server.url)
    return cache


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    """lenet-mnist copied to a folder named after the test preset, packed: (path, sha256, size)."""
    tmp = tmp_path_factory.mktemp("small")
    shutil.copytree(SMALL, tmp / NAME)
    archive = tmp / f"{NAME}.tar.gz"
    sha256, size = pretrained.pack(tmp / NAME, archive)
    return str(archive), sha256, size


def _add_preset(monkeypatch, name, artifact, model="tfzoo.classifiers.models:LeNet"):
    registry.list_models()  # discover the real presets first
    preset = Preset(name=name, model=model, task="mnist", pretrained=artifact)
    monkeypatch.setitem(registry._PRESETS, name, preset)
    return preset


def _serve(server, monkeypatch, name, data: bytes, *, sha256=None, size=None, mode=None):
    """Serves ``data`` as ``/<name>.tar.gz`` and registers ``name`` with its Artifact."""
    path = f"/{name}.tar.gz"
    server.files[path] = data
    if mode:
        server.modes[path] = mode
    artifact = Artifact(url=f"{{base}}/{name}.tar.gz", sha256=sha256 or hashlib.sha256(data).hexdigest(),
                        size_bytes=size or len(data))
    _add_preset(monkeypatch, name, artifact)
    return path, artifact


def _cache_entries(cache):
    root = cache / "pretrained"
    return sorted(os.listdir(root)) if root.exists() else []


# ----------------------------------------------------------------------------------------------
# pack


def test_pack_is_deterministic_whatever_the_times_and_modes(tmp_path):
    first = pretrained.pack(SMALL, tmp_path / "a.tar.gz")
    again = pretrained.pack(SMALL, tmp_path / "b.tar.gz")
    assert first == again
    assert first[1] == os.path.getsize(tmp_path / "a.tar.gz")

    copy = tmp_path / "elsewhere" / "lenet-mnist"
    shutil.copytree(SMALL, copy)
    for root, dirs, files in os.walk(copy):
        for n in dirs + files:
            os.utime(os.path.join(root, n), (1_234_567_890, 1_234_567_890))
    os.chmod(copy / "saved_model.pb", 0o600)
    (copy / ".complete").write_text("{}")  # a cache marker is left out
    (copy / "assets").mkdir(exist_ok=True)  # empty folders too: a fresh clone has none
    (copy / "variables" / "empty" / "deeper").mkdir(parents=True)
    assert pretrained.pack(copy, tmp_path / "c.tar.gz") == first

    raw = (tmp_path / "a.tar.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0", "gzip mtime must be 0"
    assert not raw[3] & 0x08, "gzip header must hold no file name"
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and names[0] == "lenet-mnist"
    assert {n.split("/")[0] for n in names} == {"lenet-mnist"}
    assert "lenet-mnist/saved_model.pb" in names and "lenet-mnist/variables/variables.index" in names
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
        assert m.mode == (0o755 if m.isdir() else 0o644)


def test_pack_refuses_a_folder_without_saved_model(tmp_path):
    with pytest.raises(ValueError, match="saved_model.pb"):
        pretrained.pack(tmp_path, tmp_path / "x.tar.gz")


# ----------------------------------------------------------------------------------------------
# cache and find


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TFZOO_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pretrained.cache_dir() == str(tmp_path / "explicit")
    monkeypatch.delenv("TFZOO_CACHE_DIR")
    assert pretrained.cache_dir() == str(tmp_path / "xdg" / "tfzoo")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert pretrained.cache_dir() == str(tmp_path / "home" / ".cache" / "tfzoo")


def test_find_uses_the_checkout_when_running_from_it_and_the_cache_first(env, server, monkeypatch):
    if os.path.dirname(os.path.dirname(os.path.abspath(tfzoo.__file__))) != REPO:
        pytest.skip("tfzoo is not imported from this checkout (not an editable install)")
    assert pretrained._checkout_root() == REPO
    assert pretrained.find("lenet-mnist") == SMALL
    assert pretrained.find("no-such-model") is None
    with pytest.raises(ValueError):
        pretrained.find("../savedmodels")

    # Publish lenet-mnist for this test: once downloaded, the cache wins over the checkout.
    sha256, size = pretrained.pack(SMALL, env.parent / "lenet.tar.gz")
    data = (env.parent / "lenet.tar.gz").read_bytes()
    artifact = Artifact("{base}/lenet-mnist.tar.gz", sha256, size)
    server.files["/lenet-mnist.tar.gz"] = data
    monkeypatch.setitem(registry._PRESETS, "lenet-mnist",
                        dataclasses.replace(registry.get_preset("lenet-mnist"), pretrained=artifact))
    cached = pretrained.download("lenet-mnist", progress=False)
    assert cached == str(env / "pretrained" / "lenet-mnist")
    assert pretrained.find("lenet-mnist") == cached

    listed = {e["name"]: e for e in pretrained.list_pretrained()}
    assert listed["lenet-mnist"]["where"] == "cache" and listed["lenet-mnist"]["sha256"] == artifact.sha256
    assert listed["realnvp-mnist"]["where"] in ("checkout", "remote", "cache")
    if registry.get_preset("realnvp-mnist").pretrained is None:
        assert listed["realnvp-mnist"]["where"] == "checkout" and listed["realnvp-mnist"]["path"] == FLOW

    # An incomplete cache entry (no marker) does not count.
    os.remove(os.path.join(cached, ".complete"))
    assert pretrained.find("lenet-mnist") == SMALL


# ----------------------------------------------------------------------------------------------
# download


def test_download_verifies_caches_and_fetches_only_once(env, server, monkeypatch, small_archive):
    archive, sha256, size = small_archive
    path, artifact = _serve(server, monkeypatch, NAME, open(archive, "rb").read())
    assert artifact.sha256 == sha256 and artifact.size_bytes == size
    assert pretrained.find(NAME) is None

    target = pretrained.download(NAME, progress=False)
    assert target == str(env / "pretrained" / NAME)
    assert pretrained.find(NAME) == target
    assert server.count(path) == 1
    for rel in ("saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001",
                "MODEL_CARD.md", "tfzoo.json"):
        assert open(os.path.join(target, rel), "rb").read() == open(os.path.join(SMALL, rel), "rb").read()
    assert json.load(open(os.path.join(target, ".complete")))["sha256"] == sha256
    assert _cache_entries(env) == [NAME], "no temporary files may stay in the cache"

    assert pretrained.download(NAME, progress=False) == target
    assert server.count(path) == 1, "a cached model must not be fetched again"
    assert pretrained.download(NAME, force=True, progress=False) == target
    assert server.count(path) == 2
    assert _cache_entries(env) == [NAME]

    entry = {e["name"]: e for e in pretrained.list_pretrained()}[NAME]
    assert entry == {"name": NAME, "where": "cache", "path": target, "url": server.url + path,
                     "sha256": sha256, "size_bytes": size, "disk_bytes": entry["disk_bytes"]}

    # A re-published model (another SHA-256) is not served from the stale cache.
    monkeypatch.setitem(registry._PRESETS, NAME, dataclasses.replace(
        registry.get_preset(NAME), pretrained=Artifact(artifact.url, "0" * 64, artifact.size_bytes)))
    assert pretrained.find(NAME) is None


def test_download_from_a_file_url_and_a_url_override(env, monkeypatch, small_archive):
    archive, sha256, size = small_archive
    _add_preset(monkeypatch, NAME, Artifact("{base}/nowhere.tar.gz", sha256, size))
    target = pretrained.download(NAME, url="file://" + archive, progress=True)
    assert os.path.isfile(os.path.join(target, "saved_model.pb"))
    monkeypatch.setenv("TFZOO_PRETRAINED_BASE_URL", "file://" + os.path.dirname(archive))
    _add_preset(monkeypatch, NAME, Artifact(f"{{base}}/{NAME}.tar.gz", sha256, size))
    assert pretrained.download(NAME, force=True, progress=False) == target


def _assert_nothing_cached(cache):
    assert _cache_entries(cache) == [], f"left in the cache: {_cache_entries(cache)}"
    assert pretrained.find(NAME) is None


def test_wrong_sha256_is_refused_and_leaves_nothing(env, server, monkeypatch, small_archive):
    archive, sha256, size = small_archive
    wrong = "ab" * 32
    _serve(server, monkeypatch, NAME, open(archive, "rb").read(), sha256=wrong)
    with pytest.raises(pretrained.DownloadError) as error:
        pretrained.download(NAME, progress=False)
    message = str(error.value)
    assert f"{server.url}/{NAME}.tar.gz" in message and wrong in message and sha256 in message
    assert str(size) in message
    _assert_nothing_cached(env)


@pytest.mark.parametrize("mode", ["short", "lie"])
def test_truncated_download_is_refused_and_leaves_nothing(env, server, monkeypatch, small_archive, mode):
    archive, sha256, size = small_archive
    _serve(server, monkeypatch, NAME, open(archive, "rb").read(), mode=mode)
    with pytest.raises(pretrained.DownloadError) as error:
        pretrained.download(NAME, progress=False)
    message = str(error.value)
    assert f"{server.url}/{NAME}.tar.gz" in message and str(size) in message and str(size // 2) in message
    _assert_nothing_cached(env)


def _evil_archive(kind):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        def add(name, data=b"x", **fields):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for k, v in fields.items():
                setattr(info, k, v)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)

        add("evil-model/saved_model.pb")
        if kind == "traversal":
            add("evil-model/../../evil")
        elif kind == "absolute":
            add("/tmp/tfzoo-test-evil-absolute")
        elif kind == "symlink":
            add("evil-model/link", b"", type=tarfile.SYMTYPE, linkname="/etc/passwd", size=0)
        elif kind == "hardlink":
            add("evil-model/link", b"", type=tarfile.LNKTYPE, linkname="evil-model/saved_model.pb", size=0)
    return buffer.getvalue()


@pytest.mark.parametrize("kind,reason", [("traversal", "path traversal"), ("absolute", "absolute path"),
                                         ("symlink", "is a link"), ("hardlink", "is a link")])
def test_unsafe_archive_members_are_refused(env, server, monkeypatch, kind, reason):
    _serve(server, monkeypatch, NAME, _evil_archive(kind))
    with pytest.raises(pretrained.DownloadError, match=reason):
        pretrained.download(NAME, progress=False)
    _assert_nothing_cached(env)
    assert not (env / "evil").exists() and not (env.parent / "evil").exists()
    assert not os.path.exists("/tmp/tfzoo-test-evil-absolute")


def test_network_errors_name_the_url_and_the_mirror_hint(env, server, monkeypatch, small_archive):
    archive, sha256, size = small_archive
    _add_preset(monkeypatch, NAME, Artifact(f"{{base}}/{NAME}.tar.gz", sha256, size))
    with pytest.raises(pretrained.DownloadError, match="HTTP 404") as error:  # nothing served
        pretrained.download(NAME, progress=False)
    message = str(error.value)
    assert f"{server.url}/{NAME}.tar.gz" in message and "TFZOO_PRETRAINED_BASE_URL" in message

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("TFZOO_PRETRAINED_BASE_URL", closed)
    with pytest.raises(pretrained.DownloadError) as error:
        pretrained.download(NAME, progress=False)
    assert closed in str(error.value) and "savedmodels/" in str(error.value)
    with pytest.raises(pretrained.DownloadError, match="only http, https, file"):
        pretrained.download(NAME, url="ftp://127.0.0.1/x.tar.gz", progress=False)
    _assert_nothing_cached(env)


def test_unknown_and_unpublished_presets(env, monkeypatch, small_archive):
    archive, sha256, size = small_archive
    _add_preset(monkeypatch, NAME, Artifact(f"{{base}}/{NAME}.tar.gz", sha256, size))
    with pytest.raises(tfzoo.UnknownModelError, match="lenet-mnist"):
        pretrained.download("lenet-mnits")
    unpublished = next(n for n in registry.list_models() if registry.get_preset(n).pretrained is None)
    with pytest.raises(ValueError, match=f"presets with one: .*{NAME}"):
        pretrained.download(unpublished)
    with pytest.raises(FileNotFoundError):
        pretrained.load_pretrained(NAME, download_if_missing=False)


# ----------------------------------------------------------------------------------------------
# The done-when test: a wheel installed outside the checkout gets a trained model


def _venv_env(cache, base_url):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"PYTHONNOUSERSITE": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "TFZOO_CACHE_DIR": str(cache),
                "TFZOO_PRETRAINED_BASE_URL": base_url, "PIP_NO_INPUT": "1"})
    return env


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """A fresh venv outside the checkout holding the checkout's wheel (not the editable install);
    its other packages (TensorFlow...) come from this interpreter's site-packages via a .pth."""
    import site

    started = time.time()
    tmp = tmp_path_factory.mktemp("wheel")
    # Build from a copy of the sources, so the build leaves nothing (build/, egg-info) in the checkout.
    src = tmp / "src"
    src.mkdir()
    for entry in os.listdir(REPO):
        if os.path.isfile(os.path.join(REPO, entry)):
            shutil.copy2(os.path.join(REPO, entry), src / entry)
    shutil.copytree(os.path.join(REPO, "tfzoo"), src / "tfzoo",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    dist = tmp / "dist"
    env = _venv_env(tmp / "unused-cache", "http://127.0.0.1:9")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
    done = subprocess.run(build[:4] + ["--no-build-isolation"] + build[4:], capture_output=True,
                          text=True, cwd=tmp, env=env, timeout=300)
    if done.returncode != 0:  # setuptools>=68 / wheel missing here: let pip fetch them
        done = subprocess.run(build, capture_output=True, text=True, cwd=tmp, env=env, timeout=300)
    assert done.returncode == 0, f"wheel build failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    wheel = next(dist.glob("tfzoo-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "tfzoo/pretrained.py" in names
    assert not any(n.startswith("savedmodels/") for n in names), "savedmodels/ must not be in the wheel"

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, env=env).stdout.strip()
    # Path lines of a .pth go on sys.path; .pth files inside those folders (the editable tfzoo
    # finder) are not processed, so this venv sees TensorFlow but not the checkout's tfzoo.
    with open(os.path.join(purelib, "zz_outer_site_packages.pth"), "w") as f:
        f.write("\n".join(site.getsitepackages()) + "\n")
    check = subprocess.run([python, "-c", "import tfzoo; print(tfzoo.__file__)"], capture_output=True,
                           text=True, cwd=tmp, env=env, timeout=60)
    assert check.returncode != 0, f"tfzoo must not be importable in the venv before the wheel: {check.stdout}"
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                              "--ignore-installed", str(wheel)], capture_output=True, text=True,
                             cwd=tmp, env=env, timeout=300)
    assert install.returncode == 0, f"wheel install failed:\n{install.stderr[-3000:]}"
    print(f"wheel + venv ready in {time.time() - started:.1f} s")
    return {"tmp": tmp, "python": python, "purelib": purelib}


@pytest.fixture(scope="module")
def flow_archive(tmp_path_factory):
    """The checkout's savedmodels/realnvp-mnist, packed: (path, sha256, size)."""
    archive = tmp_path_factory.mktemp("flow") / "realnvp-mnist.tar.gz"
    sha256, size = pretrained.pack(FLOW, archive)
    return str(archive), sha256, size


_VENV_SCRIPT = """
import json, os, sys
import tfzoo, tfzoo.pretrained as p
assert "tensorflow" not in sys.modules, "importing tfzoo.pretrained must not import TensorFlow"
name, artifact = {name!r}, {artifact!r}
result = {{"tfzoo_file": tfzoo.__file__, "checkout": p._checkout_root(),
           "find_checkout_model": p.find("realnvp-mnist"), "find_before": p.find(name)}}
if artifact is not None:  # a test-only preset published on the loopback server
    from tfzoo.registry import Artifact, Preset, register
    register(Preset(name=name, model="tfzoo.flows.models:MultiScaleRealNVP", task="mnist",
                    pretrained=Artifact(**artifact)))
result["path"] = p.download(name, progress=False)
result["find_after"] = p.find(name)
loaded = p.load_pretrained(name, download_if_missing=False)
import numpy as np
import tensorflow as tf
reference = tf.saved_model.load({reference!r})
x = tf.constant(np.random.default_rng(0).integers(0, 256, size=(4, 28, 28, 1)).astype("float32"))
result["downloaded"] = loaded.log_prob(x).numpy().tolist()
result["reference"] = reference.log_prob(x).numpy().tolist()
print("RESULT " + json.dumps(result))
"""


def _run_in_wheel_venv(wheel_venv, server, name, artifact):
    tmp = wheel_venv["tmp"]
    cache = tmp / f"cache-{name}"
    script = _VENV_SCRIPT.format(name=name, artifact=artifact, reference=FLOW)
    done = subprocess.run([wheel_venv["python"], "-c", script], capture_output=True, text=True,
                          cwd=tmp, env=_venv_env(cache, server.url), timeout=240)
    assert done.returncode == 0, f"venv script failed:\n{done.stderr[-4000:]}"
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["tfzoo_file"].startswith(wheel_venv["purelib"]), result["tfzoo_file"]
    assert result["checkout"] is None and result["find_checkout_model"] is None, \
        "an installed wheel must not find the checkout's savedmodels/"
    assert result["find_before"] is None
    assert result["path"] == str(cache / "pretrained" / name) == result["find_after"]
    assert len(result["downloaded"]) == 4 and all(abs(v) < 1e9 for v in result["downloaded"])
    assert result["downloaded"] == result["reference"]


def test_wheel_outside_the_checkout_downloads_and_loads_a_test_preset(wheel_venv, server, flow_archive):
    server.reset()
    archive, sha256, size = flow_archive
    name = "testpack-realnvp-mnist"
    server.files[f"/{name}.tar.gz"] = open(archive, "rb").read()
    artifact = {"url": f"{{base}}/{name}.tar.gz", "sha256": sha256, "size_bytes": size}
    _run_in_wheel_venv(wheel_venv, server, name, artifact)
    assert server.count(f"/{name}.tar.gz") == 1


def test_wheel_outside_the_checkout_downloads_the_published_realnvp_mnist(wheel_venv, server, flow_archive):
    published = tfzoo.get_preset("realnvp-mnist").pretrained
    if published is None:
        pytest.skip("realnvp-mnist has no Artifact yet")
    if not published.url.startswith("{base}/"):
        pytest.skip(f"realnvp-mnist's Artifact URL {published.url} is not under {{base}}: "
                    "it cannot be served from the loopback server")
    archive, sha256, size = flow_archive
    assert (sha256, size) == (published.sha256, published.size_bytes), \
        "realnvp-mnist's Artifact must be tfzoo.pretrained.pack('savedmodels/realnvp-mnist', ...)"
    server.reset()
    path = published.url[len("{base}"):]
    server.files[path] = open(archive, "rb").read()
    _run_in_wheel_venv(wheel_venv, server, "realnvp-mnist", None)
    assert server.count(path) == 1
