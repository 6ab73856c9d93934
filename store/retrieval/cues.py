"""Text cues the emotion head reads beside the hidden states: emoji and negation.

all-MiniLM-L6-v2's vocabulary has no emoji (each one becomes ``[UNK]``), so "Export again!
😡😡 It times out." reads as a neutral statement to the transformer. And a fine-tuned layer
trained on Reddit comments sees "happy" in "I am not happy with your company" more than the
"not". These cues are computed from the raw text in numpy and added to the head's logits
through learned weights (``cue_w`` in the head's file, bench/train_emotion.py):

* per emotion, how many of the text's emoji (and ASCII emoticons) express it;
* a positive word under a negation ("not happy", "never works", "doesn't work") and a
  negative word under one ("no complaints", "not a single problem").

:data:`CUES` names the columns; changing them changes :data:`VERSION`, which the head's file
records so that a head trained on other cues is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

#: Emoji and ASCII emoticons per emotion (matched lower-cased, variation selectors removed).
EMOJI: dict[str, tuple[str, ...]] = {
    "frustrated": ("😡", "😠", "🤬", "😤", "🙄", "💢", "👿", "😒", "🤦", "🖕", ">:(", ">:-("),
    "confused": ("🤔", "😕", "🤷", "❓", "⁉", "😵", "🧐", ":/", ":-/", "o_O"),
    "delighted": ("😍", "🥰", "😊", "😀", "😃", "😄", "😁", "🙂", "☺", "🎉", "🥳", "🙌", "👏",
                  "👍", "❤", "💕", "💖", "💜", "💙", "💚", "🧡", "💛", "🔥", "✨", "💯", "🙏",
                  "🤩", "👌", "⭐", "🌟", "😎", "🤗", ":)", ":-)", ":D", ":-D", "<3"),
    "disappointed": ("😞", "😔", "😢", "☹", "🙁", "😟", "😩", "😫", "💔", "👎", "😿", "😥",
                     ":(", ":-(", ":'("),
}
_NEGATION = (r"not|never|no|nothing|nobody|none|hardly|without|cannot|"
             r"(?:do|does|did|is|was|are|were|wo|ca|could|would|should|have|has|had|ai)n'?t")
_POSITIVE = (r"happy|glad|pleased|satisfied|impressed|good|great|worth|works?|working|worked|"
             r"love|like|helpful|useful|fine|ok|okay|fix|fixed|reliable|recommend|fun|easy|solve|"
             r"intuitive|fast|stable|acceptable|enjoy|resolved|solved|answer|answered|help|"
             r"helped|responsive")
_NEGATIVE = (r"bad|problems?|issues?|complaints?|complain|worries|worry|trouble|hassle|"
             r"wrong|bugs?|regrets?|disappoint\w*|hiccups?|glitch(?:es)?")
_WORDS = r"(?:\s+[\w'’]+){0,%d}?\s+"
_NEG_POS = re.compile(rf"\b(?:{_NEGATION})\b{_WORDS % 2}(?:{_POSITIVE})\b")
# "didn't solve our problem" is not praise: only plain negators open a negated negative.
_NEG_NEG = re.compile(rf"\b(?:not|never|no|nothing|without|zero)\b{_WORDS % 2}(?:{_NEGATIVE})\b")

#: The cue columns, in the order :func:`cues` returns them.
CUES: tuple[str, ...] = (*(f"emoji_{e}" for e in EMOJI), "negated_positive",
                         "negated_negative")
#: Identifies the cue definitions above (stored in the head's file).
VERSION = "cues-1"
_CAP = 2.0  # a count of 2 or more is as strong a cue as it gets


def _normalize(text: str) -> str:
    return text.replace("\ufe0f", "").replace("’", "'").lower()


def _pattern(marks: tuple[str, ...]) -> re.Pattern[str]:
    """Emoji anywhere; an ASCII emoticon only between spaces (``:/`` is also in URLs)."""
    alternatives = sorted((re.escape(m.lower()) if not m.isascii()
                           else rf"(?<!\S){re.escape(m.lower())}(?=[\s.,!?]|$)" for m in marks),
                          key=len, reverse=True)
    return re.compile("|".join(alternatives))


_EMOJI = tuple(_pattern(marks) for marks in EMOJI.values())


def cues(texts: Sequence[str]) -> np.ndarray:
    """``(len(texts), len(CUES))`` float32 cue values in [0, 1]."""
    out = np.zeros((len(texts), len(CUES)), np.float32)
    for i, raw in enumerate(texts):
        text = _normalize(raw)
        row = [len(p.findall(text)) for p in _EMOJI]
        row += [len(_NEG_POS.findall(text)), len(_NEG_NEG.findall(text))]
        out[i] = np.minimum(np.asarray(row, np.float32), _CAP) / _CAP
    return out
