"""From transcript cues to quote-sized passages of the users' own words, verbatim.

**Spoken text.** A speaker's spoken text is built from their cue texts (markup removed, see
:mod:`bot.core.transcripts`): consecutive cues of the same speaker form a *turn*, its cue
texts joined by single spaces; the speaker's turns are joined by single newlines, in order.
Every passage is an exact substring ``spoken[char_start:char_end]`` of its speaker's spoken
text, never crossing a turn.

**Passage size.** Slack shows at most ``MAX_SHOWN_CHARS = 700`` characters of a quote
(``bot/slack/views/blocks.py``, measured on the text, or on the text with e-mail addresses
and phone numbers masked, which can lengthen it a little); longer quotes are shortened
there. Passages are at most :data:`PASSAGE_MAX_CHARS` = 600 characters, so they are always
shown whole, with room for masking. A long turn is split between sentences into passages of
similar size; a single sentence longer than the limit is split at the last clause mark
(``, ; : -``) or, failing that, the last space before the limit. Nothing is dropped or
shortened: the passages of a turn together hold all of its words.

**Filler.** A turn or passage whose words are all filler (yeah, mm-hmm, right, okay, uh
huh ...) is not a quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.transcripts import Cue, Transcript

PASSAGE_MAX_CHARS = 600

SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
CLAUSE_MARK = re.compile(r"[,;:\u2013\u2014-](?=\s)")
FILLER = re.compile(
    r"\b(?:uh[- ]huh|m+[- ]?hm+|hm+|mm+|um+|uh+|er+m*|ah+|oh+|yeah|yes|yep|yup|right|okay|"
    r"ok|sure|cool|great|got it|i see|thank you|thanks|all right|alright|exactly|totally|"
    r"absolutely|perfect|wow|so|well|no|nope|sounds good|makes sense|of course|interesting)\b")
LETTER = re.compile(r"[^\W\d_]")


def is_filler(text: str) -> bool:
    """True when ``text`` holds no words besides fillers ("Yeah, mm-hmm. Right.")."""
    return LETTER.search(FILLER.sub(" ", text.lower())) is None


@dataclass(frozen=True)
class Passage:
    speaker: str
    text: str  # == spoken_text(speaker)[char_start:char_end]
    start: float | None  # seconds: the start of the cue holding its first word
    char_start: int
    char_end: int
    line: int  # the cue's line in the file


def spoken_texts(transcript: Transcript) -> dict[str, str]:
    """Each named speaker's spoken text (see the module docstring)."""
    return {speaker: "\n".join(turn_text(t) for t in turns)
            for speaker, turns in _turns_by_speaker(transcript.cues).items()}


def turn_text(turn: list[Cue]) -> str:
    return " ".join(c.text for c in turn)


def passages(transcript: Transcript, users: set[str],
             limit: int = PASSAGE_MAX_CHARS) -> list[Passage]:
    """The users' passages, in the order of their speakers' spoken text."""
    out: list[Passage] = []
    for speaker, turns in _turns_by_speaker(transcript.cues).items():
        if speaker not in users:
            continue
        offset = 0
        for turn in turns:
            text = turn_text(turn)
            if not is_filler(text):
                out.extend(_turn_passages(speaker, turn, text, offset, limit))
            offset += len(text) + 1  # the newline between turns
    return out


def _turns_by_speaker(cues: tuple[Cue, ...]) -> dict[str, list[list[Cue]]]:
    turns: dict[str, list[list[Cue]]] = {}
    previous: str | None = None
    for cue in cues:
        if cue.speaker is None:
            previous = None
            continue
        mine = turns.setdefault(cue.speaker, [])
        if cue.speaker == previous:
            mine[-1].append(cue)
        else:
            mine.append([cue])
        previous = cue.speaker
    return turns


def _turn_passages(speaker: str, turn: list[Cue], text: str, offset: int,
                   limit: int) -> list[Passage]:
    cue_starts: list[tuple[int, Cue]] = []
    at = 0
    for cue in turn:
        cue_starts.append((at, cue))
        at += len(cue.text) + 1
    out = []
    for start, end in split(text, limit):
        cue = next(c for pos, c in reversed(cue_starts) if pos <= start)
        if not is_filler(text[start:end]):
            out.append(Passage(speaker, text[start:end], cue.start, offset + start,
                               offset + end, cue.line))
    return out


def split(text: str, limit: int = PASSAGE_MAX_CHARS) -> list[tuple[int, int]]:
    """Spans of ``text`` of at most ``limit`` characters, between sentences where possible,
    together covering every word; each span starts and ends on a non-space."""
    sentences: list[tuple[int, int]] = []
    for start, end in _sentences(text):
        sentences.extend(_pieces(text, start, end, limit))
    if not sentences:
        return []
    total = sentences[-1][1] - sentences[0][0]
    count = -(-total // limit)
    target = total / count
    spans: list[tuple[int, int]] = []
    first, last = sentences[0]
    for start, end in sentences[1:]:
        if end - first > limit or last - first >= target:
            spans.append((first, last))
            first = start
        last = end
    spans.append((first, last))
    return spans


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        chunk = text[s:e]
        if chunk.strip():
            s += len(chunk) - len(chunk.lstrip())
            e -= len(chunk) - len(chunk.rstrip())
            out.append((s, e))
    return out


def _pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """A sentence longer than ``limit``: cut after the last clause mark, else the last
    space, before the limit (a single word longer than the limit stays whole)."""
    out = []
    while end - start > limit:
        window = text[start:start + limit]
        marks = [m.end() for m in CLAUSE_MARK.finditer(window) if m.end() > limit // 3]
        cut = marks[-1] if marks else window.rfind(" ")
        if cut <= 0:
            nxt = text.find(" ", start + limit)
            if nxt == -1 or nxt >= end:
                break
            cut = nxt - start
        piece_end = start + len(text[start:start + cut].rstrip())
        out.append((start, piece_end))
        start += cut
        start += len(text[start:end]) - len(text[start:end].lstrip())
    out.append((start, end))
    return out
