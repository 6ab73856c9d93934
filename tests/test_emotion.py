"""The packaged emotion head (store/emotion.py) and its wiring into the services."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from store.retrieval.embeddings import HashingEmbedder, SentenceTransformerEmbedder
from store.retrieval.emotion import EMOTIONS, EmotionHead, EmotionReader, load_reader

PACKAGED = Path(__file__).resolve().parent.parent / "store" / "data" / "emotion_head.npz"


@pytest.fixture(scope="module")
def head() -> EmotionHead:
    return EmotionHead.load()


def _states(n: int, length: int, dim: int = 384, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, length, dim))
                            .astype(np.float32))


def _arrays() -> dict[str, np.ndarray]:
    with np.load(PACKAGED) as data:
        return {k: data[k] for k in data.files}


def test_packaged_weights_are_small_and_describe_their_model(head: EmotionHead) -> None:
    assert PACKAGED.stat().st_size < 5_000_000
    assert head.labels == EMOTIONS == ("frustrated", "confused", "delighted", "disappointed",
                                       "neutral")
    assert head.model == "sentence-transformers/all-MiniLM-L6-v2"
    assert head.layer == 4 and head.dim == 384 and len(head.fingerprint) == 16  # layers 4, 5
    assert EmotionHead.load(PACKAGED).fingerprint == head.fingerprint
    # matrices stay float16 in memory (bench/PERF.md, ready RSS), vectors float32
    assert head.blocks[0]["q_w"].dtype == np.float16 and head.blocks[0]["q_b"].dtype == np.float32


def test_probabilities_are_calibrated_distributions(head: EmotionHead) -> None:
    mask = torch.ones(6, 9, dtype=torch.long)
    probs = head.probabilities_from_logits(head.logits(_states(6, 9), mask, ["x"] * 6))
    assert probs.shape == (6, len(EMOTIONS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    for row, guess in zip(probs, head.guesses(probs)):
        sure = row.max() >= head.threshold
        assert guess.label == (EMOTIONS[int(row.argmax())] if sure else None)
        assert guess.confidence == pytest.approx(float(row.max()))
        assert guess.version == head.version
        assert 1 / len(EMOTIONS) - 1e-6 <= guess.confidence <= 1.0


def test_padding_does_not_change_the_answer(head: EmotionHead) -> None:
    """A text's emotion must not depend on which longer texts share its batch."""
    real = _states(1, 7, seed=1)
    alone = head.logits(real, torch.ones(1, 7, dtype=torch.long), ["ok 😡"])
    padded = torch.cat([real, _states(1, 5, seed=2) * 50], dim=1)  # garbage in the padding
    mask = torch.tensor([[1] * 7 + [0] * 5])
    np.testing.assert_allclose(head.logits(padded, mask, ["ok 😡"]), alone, atol=1e-4)


def test_cues_move_the_scores_through_their_weights(head: EmotionHead) -> None:
    """The text's cues (store.retrieval.cues) add ``cue_w`` to the logits: an angry emoji
    raises frustrated over the same hidden states."""
    from store.retrieval.cues import CUES, cues

    states, mask = _states(1, 6, seed=3), torch.ones(1, 6, dtype=torch.long)
    plain, angry = (head.logits(states, mask, [t]) for t in ("Export again", "Export again 😡😡"))
    np.testing.assert_allclose(angry - plain, cues(["😡😡"]) @ head.cue_w.T, atol=1e-4)
    frustrated = EMOTIONS.index("frustrated")
    assert head.cue_w[frustrated, CUES.index("emoji_frustrated")] > 0
    assert int(np.argmax(head.cue_w[:, CUES.index("emoji_delighted")])) == \
        EMOTIONS.index("delighted")


def test_unsure_guesses_show_no_emotion(head: EmotionHead) -> None:
    assert 0 <= head.threshold < 1  # the packaged one is measured on dev (bench/EMOTION.md)
    unsure_head = EmotionHead({**_arrays(), "threshold": np.array([0.5], np.float32)})
    probs = np.array([[0.9, 0.025, 0.025, 0.025, 0.025],
                      [0.49, 0.3, 0.1, 0.1, 0.01]], np.float32)
    sure, unsure = unsure_head.guesses(probs)
    assert sure.label == "frustrated" and sure.confidence == pytest.approx(0.9)
    assert unsure.label is None and unsure.confidence == pytest.approx(0.49)
    assert sure.version == unsure.version == unsure_head.version


def test_a_label_the_cues_contradict_is_shown_only_when_sure() -> None:
    """Below ``conflict_threshold`` a label whose polarity the text's cues contradict is not
    shown (delighted against a lost praise; frustrated against relief); agreeing or silent
    cues, and a sure head, keep the label."""
    from store.retrieval.cues import cues

    head = EmotionHead({**_arrays(), "threshold": np.array([0.3], np.float32),
                        "conflict_threshold": np.array([0.7], np.float32)})
    delighted = [0.1, 0.05, 0.6, 0.15, 0.1]
    frustrated = [0.6, 0.05, 0.1, 0.15, 0.1]
    probs = np.array([delighted, delighted, delighted, frustrated, frustrated,
                      [0.02, 0.02, 0.9, 0.03, 0.03]], np.float32)
    lost = "They removed the calendar sync, it was the best thing about the app."
    relief = "Thanks for removing the pointless tour, it was so annoying."
    texts = [lost, relief, "We export the report every Monday.", relief, lost, lost]
    labels = [g.label for g in head.guesses(probs, cues(texts))]
    assert labels == [None, "delighted", "delighted", None, "frustrated", "delighted"]
    assert [g.label for g in head.guesses(probs)] == [  # without the texts' cues: no rule
        "delighted", "delighted", "delighted", "frustrated", "frustrated", "delighted"]
    off = EmotionHead({**_arrays(), "conflict_threshold": np.array([0.0], np.float32)})
    assert off.guesses(probs[:1], cues([lost]))[0].label == "delighted"


def test_a_leaning_withholds_a_label_it_contradicts_when_unsure() -> None:
    """The texts' leanings (store.retrieval.cues.leanings) join their cues in the conflict
    rule: relief with no cue, labelled frustrated below the conflict threshold, is withheld;
    above it, or without the leanings, it is shown."""
    from store.retrieval.cues import cues, leanings

    head = EmotionHead({**_arrays(), "threshold": np.array([0.3], np.float32),
                        "conflict_threshold": np.array([0.7], np.float32)})
    texts = ["Good riddance to the nagging rating prompt."] * 2
    probs = np.array([[0.6, 0.05, 0.1, 0.15, 0.1], [0.9, 0.02, 0.03, 0.03, 0.02]], np.float32)
    assert [g.label for g in head.guesses(probs, cues(texts), leanings(texts))] == [
        None, "frustrated"]
    assert [g.label for g in head.guesses(probs, cues(texts))] == ["frustrated", "frustrated"]


def test_the_version_follows_the_weights(tmp_path: Path, head: EmotionHead) -> None:
    """A retrained head has another version: stored emotions are guessed again with it."""
    assert len(head.version) == 12 and EmotionHead.load(PACKAGED).version == head.version
    arrays = _arrays()
    arrays["head_b"] = arrays["head_b"] + 0.5
    np.savez(tmp_path / "other.npz", **arrays)
    assert EmotionHead.load(tmp_path / "other.npz").version != head.version
    assert EmotionHead(_arrays()).version != ""


def test_the_version_follows_the_leaning_rules(monkeypatch: pytest.MonkeyPatch,
                                               head: EmotionHead) -> None:
    """New leaning rules withhold other labels: the same weights then have another version,
    so stored emotions are guessed again."""
    from store.retrieval import cues

    built = EmotionHead(_arrays()).version
    monkeypatch.setattr(cues, "LEANINGS", cues.LEANINGS + "-changed")
    assert EmotionHead.load(PACKAGED).version != head.version
    assert EmotionHead(_arrays()).version != built


def test_inconsistent_or_incomplete_weights_are_refused(tmp_path: Path) -> None:
    arrays = _arrays()
    arrays["head_w"] = arrays["head_w"][:-1]
    np.savez(tmp_path / "shape.npz", **arrays)
    with pytest.raises(ValueError, match="inconsistent"):
        EmotionHead.load(tmp_path / "shape.npz")
    arrays = _arrays()
    del arrays["b0.q_w"]
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(ValueError, match="missing arrays"):
        EmotionHead.load(tmp_path / "missing.npz")
    arrays = _arrays()
    arrays["temperature"] = np.array([0.0], np.float32)
    np.savez(tmp_path / "temp.npz", **arrays)
    with pytest.raises(ValueError, match="temperature"):
        EmotionHead.load(tmp_path / "temp.npz")
    arrays = _arrays()
    arrays["cues"] = np.array("cues-0")  # trained on other cue definitions
    np.savez(tmp_path / "cues.npz", **arrays)
    with pytest.raises(ValueError, match="cues"):
        EmotionHead.load(tmp_path / "cues.npz")
    arrays = _arrays()
    arrays["cue_w"] = arrays["cue_w"][:, :-1]
    np.savez(tmp_path / "cue_w.npz", **arrays)
    with pytest.raises(ValueError, match="inconsistent"):
        EmotionHead.load(tmp_path / "cue_w.npz")
    arrays = _arrays()
    arrays["threshold"] = np.array([1.5], np.float32)
    np.savez(tmp_path / "threshold.npz", **arrays)
    with pytest.raises(ValueError, match="threshold"):
        EmotionHead.load(tmp_path / "threshold.npz")
    arrays = _arrays()
    arrays["conflict_threshold"] = np.array([-0.1], np.float32)
    np.savez(tmp_path / "conflict.npz", **arrays)
    with pytest.raises(ValueError, match="conflict_threshold"):
        EmotionHead.load(tmp_path / "conflict.npz")


def test_another_model_switches_emotions_off_with_a_reason(
        head: EmotionHead, caplog: pytest.LogCaptureFixture) -> None:
    hashing = HashingEmbedder(dim=384)
    assert not head.fits(hashing)
    with caplog.at_level(logging.DEBUG, logger="store.retrieval.emotion"):
        assert load_reader(hashing) is None
    assert "emotions are off" in caplog.text

    class OtherTransformer(HashingEmbedder):  # a model whose layers differ from MiniLM's
        def fingerprint(self, layer: int) -> str:
            return "0123456789abcdef"

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="store.retrieval.emotion"):
        assert load_reader(OtherTransformer(dim=384, name="other")) is None
    assert "emotions are off" in caplog.text and "all-MiniLM-L6-v2" in caplog.text
    with pytest.raises(ValueError, match="does not make them"):
        EmotionReader(hashing, head)


# -- with the real bundled model ------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.mark.model
def test_one_pass_gives_the_same_vectors_as_plain_encoding(
        bundled: SentenceTransformerEmbedder) -> None:
    reader = load_reader(bundled)
    assert reader is not None
    texts = ["ok", "I love it!", "The export to CSV drops every row after the 1,000th one, "
             "which makes the monthly report useless for us", "😡😡", "Пожалуйста, помогите",
             "export " * 900,
             "why does the invoice page ask me to log in twice?"]
    vectors, guesses = reader.encode(texts, batch_size=2)
    np.testing.assert_allclose(vectors, bundled.encode(texts), atol=1e-5)
    assert [g.label in (*EMOTIONS, None) for g in guesses] == [True] * len(texts)
    # each text alone gets the same emotion as in a batch with others
    alone = [reader.encode([t])[1][0] for t in texts]
    assert [g.label for g in alone] == [g.label for g in guesses]
    for a, b in zip(alone, guesses):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-3)


@pytest.mark.model
def test_obvious_sentences(bundled: SentenceTransformerEmbedder) -> None:
    reader = load_reader(bundled)
    assert reader is not None
    cases = {
        "Seriously, stop breaking the export. This is ridiculous.": "frustrated",
        "I love it, thank you so much!": "delighted",
        "I don't understand how to set up the integration, what does this option mean?":
            "confused",
        "We export the report every Monday.": "neutral",
    }
    _, guesses = reader.encode(list(cases))
    assert [g.label for g in guesses] == list(cases.values())


@pytest.mark.model
def test_captures_imports_and_edits_get_an_emotion(make_services, tmp_path: Path,
                                                   bundled: SentenceTransformerEmbedder) -> None:
    from sqlalchemy import select

    from store.models import Quote, SourceKind
    from store.queries import quotes as q

    services = make_services(f"sqlite:///{tmp_path / 'emotion.db'}", embedder=bundled)
    assert services.encoder.emotions is not None
    saved = services.capture.save(q.NewQuote(
        team_id="T1", text="I love it, thank you so much!", channel_id="C1", message_ts="1.1",
        source_kind=SourceKind.SLACK)).quote
    assert saved.emotion == "delighted" and 0.2 < saved.emotion_confidence <= 1.0
    summary = services.imports.import_quotes(
        [(1, q.NewQuote(team_id="T1", text="Seriously, stop breaking the export. "
                        "This is ridiculous.", source_kind=SourceKind.SUPPORT_TICKET)),
         (2, q.NewQuote(team_id="T1", text="We export the report every Monday.",
                        source_kind=SourceKind.SURVEY, emotion="frustrated"))])
    assert summary.added == 2
    with services.sessions() as session:
        views = {r.text: r for r in session.scalars(select(Quote))}
    assert views["Seriously, stop breaking the export. This is ridiculous."].emotion \
        == "frustrated"
    assert views["We export the report every Monday."].emotion == "frustrated"  # given: kept
    edited = services.edits.edit_message("T1", "C1", "1.1",
                                          "I don't understand what this option means?")
    assert edited is not None and edited.emotion == "confused"


@pytest.mark.model
def test_switching_back_to_the_bundled_model_fills_missing_emotions(
        make_services, tmp_path: Path, bundled: SentenceTransformerEmbedder) -> None:
    from store.queries import quotes as q

    url = f"sqlite:///{tmp_path / 'switch.db'}"
    other = make_services(url)  # the tests' hashing embedder: no emotion head fits it
    assert other.encoder.emotions is None
    saved = other.capture.save(q.NewQuote(team_id="T1", text="I love it, thank you so much!")).quote
    assert saved.emotion is None
    back = make_services(url, embedder=bundled)  # start-up re-embeds the other model's vectors
    quote = back.lookup.get("T1", saved.id)
    assert quote is not None and quote.emotion == "delighted"
