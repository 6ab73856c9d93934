"""The emoji and negation cues the emotion head reads from a quote's raw text."""

from __future__ import annotations

import numpy as np

from store.retrieval.cues import CUES, EMOJI, POLARITY, cues, polarity


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


def test_a_clause_that_takes_back_the_one_before() -> None:
    """An elliptical negation denies the last evaluative word of the clause before it."""
    assert on("The new version? I love it, but my team doesn't.") == {}
    assert on("The new version is great, but it isn't.") == {"negated_positive": 0.5}
    assert on("We hoped the reports would be useful. They aren't.") == {"negated_positive": 0.5}
    assert on("I used to recommend it to everyone. Not anymore, sadly.") == \
        {"negated_positive": 0.5}
    assert on("I was worried the migration would be a nightmare, but it wasn't!") == \
        {"negated_negative": 0.5}
    # a negation followed by its own verb, or one that takes back a clause with no
    # evaluative word, is not this cue
    assert on("I love the new version, but I don't use the calendar.") == {}
    assert on("The data was wrong for a week and you keep saying it's on our side. It isn't.") \
        == {}
    assert on("Do you support SSO? We don't.") == {}


def test_praise_only_wished_for_and_a_wish_that_praises() -> None:
    assert on("I wish I could recommend you to other teams.") == {"negated_positive": 0.5}
    assert on("I really wanted to like the new editor.") == {"negated_positive": 0.5}
    assert on("I wish I could say I love the new version, but I don't.") == \
        {"negated_positive": 1.0}  # the wish and the elliptical negation
    assert on("I wish I had switched to you years ago!") == {"negated_negative": 0.5}
    assert on("Fantastic onboarding, I wish every vendor worked like you.") == \
        {"negated_negative": 0.5}
    assert on("I wish the export had a PDF option.") == {}  # a plain wish is not a cue
    assert on("I wish I could thank the support team in person.") == {}


def test_a_liked_thing_taken_away_is_a_negated_positive() -> None:
    """A loss of something praised in the past reads as a negated positive (disappointed,
    never delighted); a disliked thing that is gone as a negated negative."""
    assert on("They removed the calendar sync, it was the best thing about the app.") == \
        {"negated_positive": 0.5}
    assert on("Our team loved the old inbox. Now it is gone.") == {"negated_positive": 0.5}
    assert on("Too bad the timeline view went away, it was really useful.") == \
        {"negated_positive": 0.5}
    assert on("I miss the compact mode, we relied on it daily.") == {"negated_positive": 0.5}
    assert on("Thanks for removing the pointless tour, it was so annoying.") == \
        {"negated_negative": 0.5}
    assert on("I used to hate the exports. Now they just work!") == {"negated_negative": 0.5}
    # praise of the removal itself, the present, "shame on you", or no praise: no loss cue
    assert on("I loved that they removed the ads.") == {}
    assert on("Great that the old banner is gone, the new layout is clean.") == {}
    assert on("Shame on you, it was the best app until the price doubled.") == {}
    assert on("They removed the export button.") == {}
    assert on("It was great before the update.") == {}


def test_polarity_is_where_the_cues_point() -> None:
    """-1 unhappy (praise negated or lost, an angry or sad emoji), +1 delight (a complaint
    negated, a disliked thing gone, a happy emoji), 0 none or as much each way."""
    texts = ["They removed the calendar sync, it was the best thing about the app.",
             "Thanks for removing the pointless tour, it was so annoying.",
             "Export again! 😡😡 It times out.", "Love it ❤️", "so sad 😞 but 🤔",
             "What does this option do? 🤔", "We export the report every Monday.",
             "No complaints at all 😞"]
    assert polarity(cues(texts)).tolist() == [-1, 1, -1, 1, -1, 0, 0, 0]
    assert set(POLARITY) == set(CUES) and POLARITY["emoji_confused"] == 0


def test_hostile_and_empty_text_gives_zero_cues() -> None:
    out = cues(["", "\x00\u202e<script>", "ǹ̸̛o̶t̷ h̵a̸p̷p̶y̵" * 200])
    assert out.shape == (3, len(CUES)) and out.dtype == np.float32
    assert not out[:2].any() and ((out >= 0) & (out <= 1)).all()
    many = cues(["It is good, but it isn't. " * 1000])  # a bounded look back, a few times
    assert many[0, CUES.index("negated_positive")] == 1.0
    lost = cues(["It was great. They removed it. " * 2000])  # one pass over the sentences
    assert lost[0, CUES.index("negated_positive")] == 1.0


def _searched_everywhere(line: str) -> list[float]:
    """cues() of one line as it was first written: every pattern searched in every text,
    every sentence searched for a loss."""
    from store.retrieval import cues as module

    text = module._normalize(line)
    row = [len(p.findall(text)) for p in module._EMOJI]
    positive, negative = module._taken_back(text)
    sentences = [s for s in module._SENTENCE.split(text) if s.strip()]
    for i, sentence in enumerate(sentences):
        if module._GONE.search(sentence):
            window = " . ".join(sentences[max(0, i - 1) : i + 2])
            positive += bool(module._PAST_LIKED.search(window))
            negative += bool(module._PAST_DISLIKED.search(window))
    positive += len(module._NEG_POS.findall(text)) + len(module._WISHED_PRAISE.findall(text))
    negative += len(module._NEG_NEG.findall(text)) + len(module._PRAISING_WISH.findall(text))
    return [min(v, 2) / 2 for v in [*row, positive, negative]]


def test_cues_skip_only_searches_that_cannot_match() -> None:
    """cues() searches an ASCII text for a face only when one of its emoticons is in it, and
    a text's sentences for a loss only when the whole text has one; the values are those of
    searching everything, on the sanity and product dev lines, on faces in and out of
    context and on losses across sentence ends."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    lines = [line.split("\t")[-1] for name in ("tests/data/emotion_sanity.tsv",
                                               "bench/data/emotion_product_dev.tsv")
             for line in (root / name).read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    lines += [f"{a} {m} {b}" for marks in EMOJI.values() for m in marks
              for a, b in (("ok", "."), ("x", "y"), ("", ""), ("a" + m, m + "b"))]
    lines += ["O_o really", "o_O", "<3<3 <3", "A:/B", "plain words only", "",
              "What a shame. On the bright side it was the best part!",
              "shame! on you", "They took it. away. It was great", "no. longer useful"]
    assert len(lines) > 300
    got = cues(lines)
    for line, row in zip(lines, got):
        assert row.tolist() == _searched_everywhere(line), line


def test_leanings_read_relief_comparison_and_nostalgia() -> None:
    """A disliked thing gone, or praise by comparison, leans to delight; praise in the past
    with a turn leans to disappointment; a removal nobody asked for, something bad that is
    back, and plain lines lean nowhere."""
    from store.retrieval.cues import leanings

    delight = ["Good riddance to the nagging rating prompt.",
               "Thank goodness the clunky two-step upload is gone.",
               "The dreaded weekly timesheet reminder was scrapped, phew.",
               "The new calendar is a huge improvement over the old one."]
    unhappy = ["I was a loyal customer for years, until the price doubled.",
               "It was the best notes app back when it was simple."]
    neither = ["They removed the export button and now I can't do my job.",
               "The annoying autoplay is back after you swore it was removed.",
               "No more free tier? Seriously?", "We export the report every Monday.", "",
               "😡" * 500]
    assert leanings(delight).tolist() == [1] * len(delight)
    assert leanings(unhappy).tolist() == [-1] * len(unhappy)
    assert leanings(neither).tolist() == [0] * len(neither)


def test_a_leaning_counts_as_one_more_cue() -> None:
    """polarity(values, leaning): a leaning adds one cue of its direction; it can tip a text
    with no cue or tie with one cue against it, never outvote two."""
    from store.retrieval.cues import leanings

    texts = ["Good riddance to the nagging rating prompt.",  # no cue, leans +1
             "Good riddance to the nagging rating prompt 😞",  # one sad emoji against it
             "Good riddance to the nagging rating prompt 😞😞"]  # two against it
    values = cues(texts)
    assert polarity(values).tolist() == [0, -1, -1]
    assert polarity(values, leanings(texts)).tolist() == [1, 0, -1]
