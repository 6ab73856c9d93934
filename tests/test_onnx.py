"""The bundled model through ONNX Runtime: the export, its cache, and that it changes nothing
but speed (the same vectors, the same emotions, no torch in the serving process)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bot.cli.main import main
from store.errors import EmbeddingModelError
from store.retrieval import onnx_model
from store.retrieval.emotion_numpy import gelu

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = [
    "ok", "I love it!", "😡😡 Export again! It times out.", "Пожалуйста, помогите",
    "why does the invoice page ask me to log in twice?",
    "The export to CSV drops every row after the 1,000th one, which makes the monthly "
    "report useless for us", "export " * 900, "  ", "naïve café — déjà vu <b>&amp;</b>",
    "I am not happy with your company. Please delete my account asap.",
    "card_arrival", "customers still waiting on their card weeks after ordering",
] + [f"quote number {n}: the {w} screen is slow on {d}" for n, (w, d) in enumerate(
    [("billing", "Mondays"), ("login", "mobile"), ("report", "Safari"), ("admin", "iPad")] * 10)]


# -- without the model -----------------------------------------------------------------------

def fake_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json",
                 "1_Pooling/config.json"):
        (folder / name).write_text("{}")
    (folder / "model.safetensors").write_bytes(b"w" * 100)
    return folder


def test_the_cache_folder_changes_with_the_weights_the_layer_and_the_exporter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fake_model(tmp_path)
    first = onnx_model.cache_folder(tmp_path / "cache", model, 5)
    assert first == onnx_model.cache_folder(tmp_path / "cache", model, 5)  # stable
    assert first != onnx_model.cache_folder(tmp_path / "cache", model, 4)
    assert first != onnx_model.cache_folder(tmp_path / "cache", model, None)
    (model / "model.safetensors").write_bytes(b"w" * 101)  # other weights
    second = onnx_model.cache_folder(tmp_path / "cache", model, 5)
    assert second != first
    monkeypatch.setattr(onnx_model, "EXPORTER_VERSION", onnx_model.EXPORTER_VERSION + 1)
    assert onnx_model.cache_folder(tmp_path / "cache", model, 5) != second


def test_a_damaged_or_foreign_export_is_never_used(tmp_path: Path) -> None:
    model = fake_model(tmp_path)
    folder = onnx_model.cache_folder(tmp_path / "cache", model, 5)
    folder.mkdir(parents=True)
    key = folder.name.rsplit("-", 1)[1]
    files = {onnx_model.MODEL_FILE: b"onnx bytes", onnx_model.TOPIC_FILE: b"topic bytes",
             onnx_model.EMBEDDINGS_FILE: b"table bytes"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {"key": "0" * 16, "sha256": onnx_model.sha256_of(b"onnx bytes"),
                "files": {n: onnx_model.sha256_of(d) for n, d in files.items()
                          if n != onnx_model.MODEL_FILE}}
    (folder / onnx_model.MANIFEST_FILE).write_text(json.dumps(manifest))
    assert onnx_model.find(tmp_path / "cache", model, 5) is None  # made for another key
    (folder / onnx_model.MANIFEST_FILE).write_text(json.dumps({**manifest, "key": key}))
    found = onnx_model.find(tmp_path / "cache", model, 5)
    assert found is not None and onnx_model.read_checked(found) == b"onnx bytes"
    assert onnx_model.verify(found).checked and not found.checked
    for name in files:  # any of the three files changed after the export is refused
        (folder / name).write_bytes(files[name] + b"!")
        with pytest.raises(EmbeddingModelError, match="does not match its checksum"):
            onnx_model.verify(found)  # what loading checks, without holding a file in memory
        (folder / name).write_bytes(files[name])
    (folder / onnx_model.MODEL_FILE).write_bytes(b"onnx bytez")
    with pytest.raises(EmbeddingModelError, match="does not match its checksum"):
        onnx_model.read_checked(found)
    (folder / onnx_model.TOPIC_FILE).unlink()  # an export from before the topic graph
    assert onnx_model.find(tmp_path / "cache", model, 5) is None
    (folder / onnx_model.TOPIC_FILE).write_bytes(files[onnx_model.TOPIC_FILE])
    (folder / onnx_model.MANIFEST_FILE).write_text("{not json")
    assert onnx_model.find(tmp_path / "cache", model, 5) is None


def test_a_failed_export_says_why_and_leaves_nothing_behind(tmp_path: Path) -> None:
    model = fake_model(tmp_path)  # no real weights: the export cannot load them
    with pytest.raises(EmbeddingModelError, match="exporting the bundled model to ONNX failed"):
        onnx_model.prepare(tmp_path / "cache", model, 5, say=lambda _: None)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []


def test_topic_precision_is_read_from_the_environment_and_checked() -> None:
    from bot.config import ConfigError, Settings

    assert Settings.from_env({}).topic_precision == "int8"
    assert Settings.from_env({"VOICEBOT_TOPIC_PRECISION": " FP32 "}).topic_precision == "fp32"
    with pytest.raises(ConfigError, match="VOICEBOT_TOPIC_PRECISION must be `int8`"):
        Settings.from_env({"VOICEBOT_TOPIC_PRECISION": "int4"})


def test_numpy_gelu_is_the_exact_erf_gelu() -> None:
    x = np.linspace(-8, 8, 4001)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    assert np.max(np.abs(gelu(x) - exact)) < 1e-6


def test_model_prepare_with_a_custom_model_has_nothing_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VOICEBOT_EMBEDDING_MODEL", str(tmp_path))
    monkeypatch.setenv("VOICEBOT_MODEL_CACHE", str(tmp_path / "cache"))
    assert main(["model", "prepare"]) == 0
    assert "runs on sentence-transformers; nothing to prepare" in capsys.readouterr().out
    assert not (tmp_path / "cache").exists()


# -- with the real bundled model ---------------------------------------------------------------

@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export for the module, made as `voicebot model prepare` makes it."""
    root = tmp_path_factory.mktemp("onnx-cache")
    proc = subprocess.run([sys.executable, "-m", "bot", "model", "prepare"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(root / "home"),
                               "VOICEBOT_MODEL_CACHE": str(root),
                               "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert "exporting the bundled model to ONNX once" in proc.stdout
    assert "ready: " in proc.stdout and "emotion layer" in proc.stdout
    return root


@pytest.fixture(scope="module")
def pair(cache: Path):  # type: ignore[no-untyped-def]
    from bot.config import Settings
    from bot.container import make_embedder
    from store.retrieval.embeddings import SentenceTransformerEmbedder

    return make_embedder(Settings(model_cache=str(cache))), SentenceTransformerEmbedder()


@pytest.mark.model
def test_onnx_vectors_are_the_torch_vectors(pair) -> None:  # type: ignore[no-untyped-def]
    onnx, torch_model = pair
    assert type(onnx).__name__ == "OnnxEmbedder" and onnx.name == torch_model.name
    a, b = onnx.encode(SAMPLE, batch_size=7), torch_model.encode(SAMPLE)
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() >= 0.9999, (cosines.min(), SAMPLE[int(cosines.argmin())])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # one at a time (serving) is the same as in a batch (import)
    alone = np.vstack([onnx.encode([t]) for t in SAMPLE[:8]])
    assert np.allclose(alone, a[:8], atol=1e-5)


@pytest.mark.model
def test_emotions_from_onnx_equal_emotions_from_torch(pair) -> None:  # type: ignore[no-untyped-def]
    from store.retrieval.emotion import load_reader

    onnx, torch_model = pair
    r_onnx, r_torch = load_reader(onnx), load_reader(torch_model)
    assert r_onnx is not None and r_torch is not None  # the head fits the ONNX export too
    assert r_onnx.run is not None  # its layer runs in ONNX Runtime too (emotion_onnx.py)
    v1, p1 = r_onnx.probabilities(SAMPLE, batch_size=5)
    v2, p2 = r_torch.probabilities(SAMPLE, batch_size=5)
    assert np.abs(p1 - p2).max() < 2e-3
    assert (p1.argmax(1) == p2.argmax(1)).all()
    assert np.sum(v1 * v2, axis=1).min() >= 0.9999


@pytest.mark.model
def test_the_export_is_reproducible(cache: Path, tmp_path: Path) -> None:
    from store.retrieval.embeddings import bundled_model_path

    (first,) = [p for p in cache.iterdir() if p.name.startswith("all-MiniLM")]
    manifest = json.loads((first / onnx_model.MANIFEST_FILE).read_text())
    old = tmp_path / "all-MiniLM-L6-v2-onnx-0123456789abcdef"  # an earlier version's export
    old.mkdir()
    (old / onnx_model.MANIFEST_FILE).write_text("{}")
    (old / onnx_model.MODEL_FILE).write_bytes(b"x" * 2**20)
    said: list[str] = []
    again = onnx_model.prepare(tmp_path, bundled_model_path(), manifest["tap_layer"],
                               say=said.append)
    assert any(str(old) in line and "(1 MiB); delete them" in line for line in said), said
    assert old.exists()  # said, never deleted
    assert again.folder.name == first.name
    assert again.manifest["sha256"] == manifest["sha256"]
    assert again.manifest["files"] == manifest["files"]
    for name in (onnx_model.MODEL_FILE, onnx_model.TOPIC_FILE, onnx_model.EMBEDDINGS_FILE):
        assert (again.folder / name).read_bytes() == (first / name).read_bytes(), name


@pytest.mark.model
def test_topics_through_the_8_bit_graph_point_where_the_full_graph_points(
        pair, cache: Path) -> None:  # type: ignore[no-untyped-def]
    """The topic graph's vectors are the full graph's within quantization error; with
    ``topic_precision="fp32"`` they are the full graph's exactly."""
    from bot.config import Settings
    from bot.container import make_embedder
    from store.retrieval.embeddings import encode_topic

    onnx, torch_model = pair
    assert onnx.topic_precision == "int8"
    topics = [t for t in SAMPLE if len(t) < 200]
    full = onnx.encode(topics)
    fast = np.vstack([encode_topic(onnx, t) for t in topics])
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(fast * full, axis=1)
    assert cosines.min() >= 0.99, (cosines.min(), topics[int(cosines.argmin())])
    assert cosines.mean() >= 0.998
    assert not np.allclose(fast, full, atol=1e-6)  # it really is the other graph
    exact = make_embedder(Settings(model_cache=str(cache), topic_precision="fp32"))
    same = np.vstack([encode_topic(exact, t) for t in topics])
    assert np.allclose(same, full, atol=1e-6)
    # a model without its own topic encoder (sentence-transformers) encodes topics as texts
    assert np.allclose(encode_topic(torch_model, topics[0]), torch_model.encode(topics[:1])[0])


@pytest.mark.model
def test_serving_never_imports_torch(cache: Path, tmp_path: Path) -> None:
    """build_services with the bundled model, in a fresh process, as `voicebot serve`."""
    script = textwrap.dedent(f"""
        import json, sys
        from bot.config import Settings
        from bot.container import build_services
        s = build_services(Settings(database_url="sqlite:///{tmp_path / 's.db'}",
                                    model_cache={str(cache)!r}, torch_threads=1))
        vecs, guesses = s.encoder.encode(["I love the new export, thank you!"])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in
                       {{"torch", "sentence_transformers", "transformers", "sklearn"}})
        print(json.dumps({{"heavy": heavy, "embedder": type(s.embedder).__name__,
                          "emotion": guesses[0].label if guesses else None,
                          "dim": int(vecs.shape[1])}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"heavy": [], "embedder": "OnnxEmbedder", "emotion": "delighted", "dim": 384}


def _resident_kib(address: int) -> int:
    """Resident KiB of the mapping of this process that holds ``address``."""
    current = False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5:  # a mapping's first line
                start, end = (int(x, 16) for x in head[0].split("-"))
                current = start <= address < end
            elif current and line.startswith("Rss:"):
                return int(head[1])
    raise AssertionError(f"no mapping holds {address:#x}")


@pytest.mark.model
@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads Linux's /proc")
def test_warm_up_pages_in_the_shared_word_embedding_table(cache: Path) -> None:
    """The table is memory-mapped, so a page would become resident only when a token on it
    is first seen and the server would grow with the vocabulary of new quotes (bench/LOAD.md);
    warm-up reads it once, and new words then add nothing."""
    from bot.config import Settings
    from bot.container import make_embedder
    from bot.core.vectors import Encoder

    embedder = make_embedder(Settings(model_cache=str(cache)))
    table = embedder._table_map  # type: ignore[attr-defined]
    assert str(table.filename).endswith(onnx_model.EMBEDDINGS_FILE)
    where = table.__array_interface__["data"][0]
    table_kib = table.nbytes // 1024
    assert _resident_kib(where) < table_kib // 4  # mapped, hardly read yet
    embedder.encode(["the card never arrived"])
    assert _resident_kib(where) < table_kib // 4  # a few words read a few pages
    Encoder(embedder).warm_up()
    after = _resident_kib(where)
    assert after >= table_kib - 8  # every page resident
    embedder.encode(["zygomorphic quetzal xylophones", "ubiquitous kumquat marmalade"])
    embedder.encode_topic("perspicacious hippopotamus")  # type: ignore[attr-defined]
    assert _resident_kib(where) == after
