"""Text cues the emotion head reads beside the hidden states: emoji and negation.

all-MiniLM-L6-v2's vocabulary has no emoji (each one becomes ``[UNK]``), so "Export again!
😡😡 It times out." reads as a neutral statement to the transformer. And a fine-tuned layer
trained on Reddit comments sees "happy" in "I am not happy with your company" more than the
"not". These cues are computed from the raw text in numpy and added to the head's logits
through learned weights (``cue_w`` in the head's file, bench/train_emotion.py):

* per emotion, how many of the text's emoji (and ASCII emoticons) express it;
* a positive word under a negation ("not happy", "never works", "doesn't work") and a
  negative word under one ("no complaints", "not a single problem");
* a clause that takes back what came before it: an elliptical negation ("..., but I
  don't.", "They aren't.", "Not anymore.") negates the last evaluative word before it,
  in its own or the previous sentence. "I wish I could say I love the new version, but I
  don't." counts as a negated positive, "I was worried it would be a nightmare, but it
  wasn't." as a negated negative;
* praise only wished for ("I wish I could recommend it", "I wanted to love the redesign")
  counts as a negated positive; a wish that holds the product up as the standard ("I wish I
  had found this app sooner", "I wish every vendor worked like you") as a negated negative
  (GoEmotions reads "wish" as disappointment);
* a loss: something the text says is gone ("they removed", "took away", "is gone", "no
  longer", "used to", "I miss", "bring back", or a regret: "shame", "pity", "too bad") next to
  praise of it in the past ("it was the best part", "we loved that", "used to be my
  favourite"), in the same or a neighbouring sentence, counts as a negated positive: a liked
  thing taken away is a disappointment, never a delight. Its mirror image, a disliked thing
  that is gone ("so glad they removed the annoying popup, it was the worst part", "I used to
  hate it"), counts as a negated negative.

:data:`CUES` names the columns; changing them changes :data:`VERSION`, which the head's file
records so that a head trained on other cues is refused. :func:`polarity` says where a text's
cues point (unhappy, delighted or neither): the head withholds a label they contradict unless
it is sure (``store.retrieval.emotion.contradicted``).
"""

from __future__ import annotations

import itertools
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
# What an elliptical negation looks back at: the lists above and a few more evaluative words
# (kept out of the two patterns above: "couldn't be better" is praise).
_TAKEN_BACK = re.compile(rf"\b(?:({_POSITIVE}|better|improved?)|({_NEGATIVE}|hate|hated|"
                         r"nightmare|pain|painful|worried|afraid|scared|hard|difficult))\b")
# A negated auxiliary with nothing after it ("but I don't.", "It isn't.", "Not anymore."):
# it denies the clause before it rather than a word after it.
_ELLIPTICAL = re.compile(
    r"(?:\b(?:i|it|we|they|you|he|she|this|that|these|those)\s+"
    r"(?:(?:just|really|simply|honestly|still|actually|sadly|unfortunately)\s+)?"
    r"(?:(?:do|does|did|is|are|was|were|ca|could|wo|would|has|have|had)n'?t|cannot|"
    r"(?:do|does|did|is|are|was|were|can|could|will|would|has|have|had)\s+not)"
    r"|\b(?:it's|it is|that's|that is|they're|they are|i'm|we're|you're)\s+not"
    r"|(?:^|[.!?;,]\s*)not)"
    r"(?:\s+(?:at\s+all|anymore|any\s+more|really|yet|though|sadly))?"
    r"(?=\s*(?:[.,;:!?)]|$))")
# Praise only wished for: "I wish I could recommend it", "I wanted to love the redesign".
_WISHED_PRAISE = re.compile(
    rf"\bwish(?:ed)?\s+(?:i|we)\s+could\b(?:\s+[\w']+){{0,5}}?\s+(?:{_POSITIVE})\b"
    r"|\b(?:wanted|want|tried|hoped|was\s+hoping|were\s+hoping)\s+(?:(?:so|really)\s+)?"
    r"(?:hard\s+|badly\s+)?to\s+(?:love|like|enjoy)\b")
# A wish that holds the product up as the standard: praise.
_PRAISING_WISH = re.compile(
    r"\bwish(?:ed)?\s+(?:i|we)(?:'d|\s+had|\s+would\s+have)(?:\s+[\w']+){0,6}?\s+"
    r"(?:sooner|earlier|before|years\s+ago|ages\s+ago|long\s+ago)\b"
    r"|\bwish(?:ed)?\s+(?:every|all|more|other|everyone|everybody|everything)\b"
    r"(?:\s+[\w']+){0,8}?\s+(?:like\s+(?:you|yours|this|it)\b|as\s+\w+\s+as\s+(?:you|yours|"
    r"this|it)\b|this\s+(?:easy|good|simple|fast|smooth|clear|helpful|nice|great|reliable|"
    r"intuitive|quick|friendly|responsive)\b)")
# A loss: something gone, or a regret about it ("shame on you" is anger, not regret).
_GONE = re.compile(
    r"\b(?:remov(?:e|ed|es|ing)|(?:took|taken|take|taking)\s+(?:\w+\s+)?away|"
    r"(?:got|get|getting|gotten)\s+rid\s+of|discontinu(?:e|ed|ing)|retir(?:e|ed|ing)|"
    r"killed|gone|no\s+longer|used\s+to|miss|bring\s+back|"
    r"shame(?!\s+on\b)|pity|too\s+bad|sad\s+to\s+see)\b")
_GAP = r"(?:\s+(?!(?:not|never|no|hardly|barely)\b)[\w']+){0,4}?\s+"
_LIKED = r"(?:best|favou?rite|great|perfect|brilliant|handy|nice|nicer|better|useful|helpful|" \
    r"amazing|awesome|simple|fast|excellent|lovely|good|fantastic|wonderful|essential)"
_DISLIKED = r"(?:worst|annoying|awful|terrible|useless|pointless|horrible|ugly|clunky|" \
    r"irritating|confusing|bad|painful|pain|nightmare|mess)"
# Praise of the thing in the past, or a verb of liking it ("we loved that", but not "I loved
# that they removed ...", which praises the removal).
_PAST_LIKED = re.compile(
    rf"\b(?:was|were|used\s+to\s+be)\b{_GAP}{_LIKED}\b"
    r"|\b(?:loved|liked|enjoyed|adored|relied\s+on|depended\s+on|used\s+to\s+(?:love|like|"
    r"enjoy))\b(?!\s+(?:that|how|when|it\s+when|the\s+way)\s+\w)")
_PAST_DISLIKED = re.compile(
    rf"\b(?:was|were|used\s+to\s+be)\b{_GAP}{_DISLIKED}\b"
    r"|\b(?:hated|disliked|used\s+to\s+hate|could\s*n'?t\s+stand)\b"
    r"|\b(?:remov(?:e|ed|es|ing)|(?:got|get|getting|gotten)\s+rid\s+of)\s+(?:the\s+|that\s+|"
    r"those\s+|this\s+|these\s+|your\s+|all\s+the\s+)?(?:annoying|useless|pointless|ugly|"
    r"clunky|irritating|endless|awful|terrible|horrible)\b")
_NEG_POS = re.compile(rf"\b(?:{_NEGATION})\b{_WORDS % 2}(?:{_POSITIVE})\b")
# "didn't solve our problem" is not praise: only plain negators open a negated negative.
_NEG_NEG = re.compile(rf"\b(?:not|never|no|nothing|without|zero)\b{_WORDS % 2}(?:{_NEGATIVE})\b")

#: The cue columns, in the order :func:`cues` returns them.
CUES: tuple[str, ...] = (*(f"emoji_{e}" for e in EMOJI), "negated_positive",
                         "negated_negative")
#: The polarity each cue column points to: -1 unhappy (frustrated or disappointed), +1
#: delighted, 0 neither (:func:`polarity`).
POLARITY: dict[str, int] = {"emoji_frustrated": -1, "emoji_confused": 0, "emoji_delighted": 1,
                            "emoji_disappointed": -1, "negated_positive": -1,
                            "negated_negative": 1}
#: Identifies the cue definitions above (stored in the head's file).
VERSION = "cues-3"
_LOOK_BACK = 300  # characters an elliptical negation looks back over
_MAX_TAKEN_BACK = 16  # elliptical negations read per text (a quote has a few at most)
_SENTENCE = re.compile(r"[.!?]+")
# Clause breaks; "and" only before a new subject ("... for a week and you keep saying ...").
_CLAUSE = re.compile(r"[,;:]|\b(?:but|yet|though|although|honestly|sadly)\b|"
                     r"\band\s+(?=(?:i|you|we|they|it|he|she)\b)")
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
#: Per :data:`_EMOJI` pattern, its ASCII emoticons as matched: in an ASCII text the pattern
#: can match only where one of these is a substring (its emoji are not ASCII), so a text
#: holding none of them is not searched (most quotes have no emoji or emoticon).
_EMOTICONS = tuple(tuple(m.lower() for m in marks if m.isascii()) for marks in EMOJI.values())


def _taken_back(text: str) -> tuple[int, int]:
    """Elliptical negations taking back a positive and a negative word: the last evaluative
    word of the clause just before the negation (of the previous sentence when the
    negation starts one)."""
    positive = negative = 0
    for m in itertools.islice(_ELLIPTICAL.finditer(text), _MAX_TAKEN_BACK):
        sentences = _SENTENCE.split(text[max(0, m.start() - _LOOK_BACK) : m.start()])
        clauses = [c for c in _CLAUSE.split(sentences[-1]) if c and c.strip()]
        if not clauses and len(sentences) > 1:
            clauses = [c for c in _CLAUSE.split(sentences[-2]) if c and c.strip()]
        words = list(_TAKEN_BACK.finditer(clauses[-1])) if clauses else []
        if words:
            if words[-1].group(1):
                positive += 1
            else:
                negative += 1
    return positive, negative


def _lost(text: str) -> tuple[int, int]:
    """Losses of a liked thing and of a disliked one: per sentence that says something is
    gone, whether it or a neighbouring sentence describes the thing as liked or disliked in
    the past."""
    if not _GONE.search(text):  # a match in a sentence is one in the whole text
        return 0, 0
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    liked = disliked = 0
    for i, sentence in enumerate(sentences):
        if not _GONE.search(sentence):
            continue
        window = " . ".join(sentences[max(0, i - 1) : i + 2])
        liked += bool(_PAST_LIKED.search(window))
        disliked += bool(_PAST_DISLIKED.search(window))
    return liked, disliked


def cues(texts: Sequence[str]) -> np.ndarray:
    """``(len(texts), len(CUES))`` float32 cue values in [0, 1]."""
    counts = []
    for raw in texts:
        text = _normalize(raw)
        plain = text.isascii()
        row = [len(p.findall(text)) if not plain or any(m in text for m in marks) else 0
               for p, marks in zip(_EMOJI, _EMOTICONS)]
        positive, negative = _taken_back(text)
        lost_liked, lost_disliked = _lost(text)
        positive += lost_liked
        negative += lost_disliked
        positive += len(_NEG_POS.findall(text)) + len(_WISHED_PRAISE.findall(text))
        negative += len(_NEG_NEG.findall(text)) + len(_PRAISING_WISH.findall(text))
        row += [positive, negative]
        counts.append(row)
    out: np.ndarray = np.minimum(np.asarray(counts, np.float32).reshape(len(texts), len(CUES)),
                                 _CAP) / _CAP
    return out


# -- leanings: polarity evidence for the conflict rule only, not inputs of the head ----------
# Relief: something gone or dropped, beside a word for how disliked it was or how glad the
# writer is that it went ("Good riddance to the nagging upgrade prompt"), unless it is back.
_DROPPED = re.compile(
    r"\b(?:remov(?:e|ed|es|ing)|drop(?:ped|ping)|ditch(?:ed|ing)?|scrap(?:ped|ping)|axed|killed|"
    r"retir(?:ed|ing)|(?:got|get|getting|gotten)\s+rid\s+of|gone|disappeared|vanished|"
    r"no\s+more|no\s+longer|good\s+riddance|(?:is|are)\s+history|bye\s+bye|stripped|lifted|"
    r"went\s+away|thing\s+of\s+the\s+past)\b")
_UNWANTED = re.compile(
    r"\b(?:annoying|nagging|clunky|horrible|terrible|awful|worst|hated?|hating|dreaded|dread|"
    r"cluttered|forced|mandatory|intrusive|noisy|laggy|buggy|flaky|ugly|painful|pain|nightmare|"
    r"hell|nuts|crazy|mad|insane|overwhelm\w*|hassle|sick\s+of|annoyed|frustrating|useless|"
    r"pointless|tedious|irritating|obnoxious|confusing|endless|relie(?:f|ved)|thank\s+(?:god|"
    r"goodness|heavens|you)|thanks|glad|riddance|finally\w*|phew|yay)\b")
_BACK = re.compile(r"\b(?:(?:is|are|it's|they're)\s+back|came\s+back|comes\s+back|returned|"
                   r"reappeared)\b")
# Nostalgia: praise in the past, and a turn ("I was a happy subscriber for six years, right up
# until the price doubled"; "Such a great tool back when it was just a notebook").
_WAS_LIKED = re.compile(
    r"\b(?:was|were|used\s+to\s+be|been)\b(?:\s+[\w']+){0,4}?\s+(?:best|favou?rite|great|"
    r"perfect|brilliant|happy|loyal|good|amazing|awesome|excellent|lovely|fantastic|wonderful|"
    r"go-to)\b|\b(?:loved|adored|liked|enjoyed)\b")
_TURN = re.compile(r"\b(?:until|back\s+when|these\s+days|nowadays|now\s+it(?:'s|\s+is)|anymore|"
                   r"any\s+more|since\s+the|used\s+to)\b")
# Praise by comparison: "a huge improvement", "even better", "the smoothest launch we've had".
_BETTER = re.compile(
    r"\b(?:(?:huge|big|massive|real|major)\s+improvement|(?:so|much|way|even|far)\s+better|"
    r"better\s+than\s+(?:ever|before|the\s+old)|best\s+(?:update|release|version|change|"
    r"decision|thing)|prefer\s+(?:it|the\s+new|this)|(?:smooth|easi|fast|simpl|clean|quick)est)\b")
#: Identifies the leaning rules above: part of the emotion head's version
#: (``store.retrieval.emotion.EmotionHead.version``), so a change re-reads stored guesses.
LEANINGS = "leanings-1"


def _leaning(text: str) -> int:
    if not (_DROPPED.search(text) or _WAS_LIKED.search(text) or _BETTER.search(text)):
        return 0
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    up = int(bool(_BETTER.search(text)))
    down = 0
    for i, sentence in enumerate(sentences):
        window = " . ".join(sentences[max(0, i - 1) : i + 2])
        if (_DROPPED.search(sentence) and _UNWANTED.search(window)
                and not _WAS_LIKED.search(window) and not _BACK.search(window)):
            up += 1
        if _WAS_LIKED.search(sentence) and _TURN.search(window):
            down += 1
    return (up > down) - (up < down)


def leanings(texts: Sequence[str]) -> np.ndarray:
    """Per text, where phrasings the head misreads point: +1 to delight (a disliked thing gone,
    praise by comparison), -1 to disappointment (praise in the past with a turn), 0 neither.
    They are not inputs of the head (its cues are :func:`cues`): :func:`polarity` adds them
    to the cues' direction, for the conflict rule only (bench/EMOTION.md, "Leanings")."""
    out: np.ndarray = np.array([_leaning(_normalize(t)) for t in texts], np.int8)
    return out


def polarity(values: np.ndarray, leaning: np.ndarray | None = None) -> np.ndarray:
    """Per row of :func:`cues` values, where the cues point: -1 to an unhappy emotion (praise
    negated, taken back or lost; an angry or sad emoji), +1 to delight (a complaint negated, a
    disliked thing gone, a happy emoji), 0 nowhere (no cue, or as much one way as the other).
    With ``leaning`` (:func:`leanings` of the same texts) each row's leaning counts as one
    more cue."""
    signs = np.array([POLARITY[c] for c in CUES], np.float32)
    total = np.asarray(values, np.float32) @ signs
    if leaning is not None:
        total = total + np.asarray(leaning, np.float32) / _CAP  # as one cue of count 1
    out: np.ndarray = np.sign(total).astype(np.int8)
    return out
