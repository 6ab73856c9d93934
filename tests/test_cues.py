"""The emoji and negation cues the emotion head reads from a quote's raw text."""

from __future__ import annotations

import numpy as np

from store.retrieval.cues import CUES, EMOJI, cues


def on(text: str) -> dict[str, float]:
    return {name: float(v) for name, v in zip(CUES, cues([text])[0]) if v}


def test_emoji_count_for_their_emotion_and_saturate() -> None:
    assert on("Export again! 😡😡 It times out.") == {"emoji_frustrated": 1.0}
    assert on("quote ending in 😤") == {"emoji_frustrated": 0.5}
    assert on("😡😡😡😡😡 " * 50) == {"emoji_frustrated": 1.0}  # capped: one cue, at most 1
    assert on("Love it ❤️") == {"emoji_delighted": 0.5}  # variation selector ignored
    assert on("so sad 😞 but 🤔") == {"emoji_disappointed": 0.5, "emoji_confused": 0.5}
    assert set(EMOJI) == {"frustrated", "confused", "delighted", "disappointed"}


def test_ascii_emoticons_only_stand_alone() -> None:
    assert on("that's nice :)") == {"emoji_delighted": 0.5}
    assert on("oh no :(") == {"emoji_disappointed": 0.5}
    assert on("see https://example.com/a:/b and (a:)") == {}  # URLs and code are not faces


def test_negated_positive_and_negated_negative() -> None:
    assert on("I am not happy with your company.") == {"negated_positive": 0.5}
    assert on("The sync never works.") == {"negated_positive": 0.5}
    assert on("it doesnt work and i dont like it") == {"negated_positive": 1.0}  # typos too
    assert on("No complaints at all") == {"negated_negative": 0.5}
    assert on("Not a single problem since the update.") == {"negated_negative": 0.5}
    assert on("the fix didn't solve our problem") == {"negated_positive": 0.5}
    assert on("I am happy with it") == {} and on("There is a problem") == {}


def test_hostile_and_empty_text_gives_zero_cues() -> None:
    out = cues(["", "\x00\u202e<script>", "ǹ̸̛o̶t̷ h̵a̸p̷p̶y̵" * 200])
    assert out.shape == (3, len(CUES)) and out.dtype == np.float32
    assert not out[:2].any() and ((out >= 0) & (out <= 1)).all()
