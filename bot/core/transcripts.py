"""Reading interview transcripts into cues: WebVTT (Zoom and Google Meet ``Name: text`` cues,
Microsoft Teams ``<v Name>`` voice tags), SRT, Otter-style TXT (``Name  0:03`` headers) and
plain ``Name: text`` lines. The format is detected from the content unless forced.

A cue's text is its payload with the cue markup removed (tags such as ``<v>``, ``<i>``,
``<00:01.000>``, SRT ``{\\an8}``, and the ``Name:`` prefix that only names the speaker),
character references decoded (``&amp;`` is ``&``), each line stripped at both ends and the
lines joined by single spaces: a line break inside a cue is the caption's layout, not
speech. Nothing else is changed. Turning cues into quotes is :mod:`bot.core.passages`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

FORMATS = ("vtt", "srt", "otter", "plain")
SUFFIXES = frozenset({".vtt", ".srt", ".txt"})


class TranscriptError(ValueError):
    """The transcript cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class Cue:
    speaker: str | None
    text: str
    start: float | None  # seconds from the start of the recording
    line: int  # where the cue starts in the file (1-based)


@dataclass(frozen=True)
class Transcript:
    format: str
    cues: tuple[Cue, ...]
    recorded_at: datetime | None  # when the format (or Zoom's file name) carries it

    def speakers(self) -> dict[str, int]:
        """Each named speaker with the number of words they said, most words first."""
        words: dict[str, int] = {}
        for cue in self.cues:
            if cue.speaker is not None:
                words[cue.speaker] = words.get(cue.speaker, 0) + len(cue.text.split())
        return dict(sorted(words.items(), key=lambda kv: (-kv[1], kv[0])))


VTT_TIME = r"(?:\d+:)?\d{2}:\d{2}\.\d{3}"
SRT_TIME = r"\d+:\d{2}:\d{2}[,.]\d{3}"
VTT_TIMING = re.compile(rf"^({VTT_TIME})[ \t]+-->[ \t]+({VTT_TIME})(?:[ \t].*)?$")
SRT_TIMING = re.compile(rf"^({SRT_TIME})[ \t]+-->[ \t]+({SRT_TIME})(?:[ \t].*)?$")
OTTER_HEADER = re.compile(r"^(?P<name>\S.*?)(?: {2,}|\t+)(?P<ts>(?:\d+:)?\d{1,2}:\d{2})[ \t]*$")
PLAIN_TIME = re.compile(r"^[\[(]?(?P<ts>(?:\d+:)?\d{1,2}:\d{2})[\])]?[ \t]+")
NAME_PREFIX = re.compile(r"^(?P<name>[^\s:<>\[\]()\"?!][^:<>\"?!]{0,59}?):[ \t]+(?=\S)")
VOICE = re.compile(r"<v(?:\.[^\s>]+)*[ \t]+([^>]+)>")
TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")
ZOOM_NAME = re.compile(r"GMT(\d{8})-(\d{6})")


def seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return total


def detect(text: str) -> str:
    """The transcript format of ``text``: vtt, srt, otter or plain."""
    lines = [ln.strip() for ln in text.splitlines()]
    if lines and lines[0].startswith("WEBVTT"):
        return "vtt"
    for ln in lines:
        if "-->" in ln:
            return "srt" if SRT_TIMING.match(ln) and "," in ln.split("-->")[0] else "vtt"
    if any(OTTER_HEADER.match(ln) for ln in lines):
        return "otter"
    return "plain"


def read(path: str | Path, text: str, fmt: str | None = None) -> Transcript:
    """Parse ``text`` (the file's decoded content); ``fmt`` forces the format."""
    path = Path(path)
    fmt = fmt or detect(text)
    if fmt not in FORMATS:
        raise TranscriptError(f"{path}: unknown transcript format {fmt!r} "
                              f"(use one of {', '.join(FORMATS)})")
    lines = text.splitlines()
    parse = {"vtt": _vtt, "srt": _srt, "otter": _otter, "plain": _plain}[fmt]
    cues = tuple(c for c in parse(path, lines) if c.text)
    if not cues:
        raise TranscriptError(f"{path}: no spoken words found (read as {fmt}). Nothing was "
                              "imported.")
    return Transcript(format=fmt, cues=cues, recorded_at=_zoom_date(path))


def _zoom_date(path: Path) -> datetime | None:
    """Zoom cloud recordings are named ``GMT20260312-150102_Recording...``: the UTC start."""
    m = ZOOM_NAME.search(path.name)
    if not m:
        return None
    try:
        return datetime.strptime(m[1] + m[2], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _clean(payload: list[str]) -> tuple[str | None, str]:
    """(speaker, text) of a cue payload: a ``<v Name>`` tag or a ``Name:`` prefix names the
    speaker; markup is removed and the lines joined by single spaces."""
    joined = "\n".join(payload)
    speaker = None
    voice = VOICE.search(joined)
    if voice:
        speaker = html.unescape(voice[1]).strip()
    lines = [html.unescape(TAG.sub("", ln)).strip() for ln in payload]
    text = " ".join(ln for ln in lines if ln)
    if speaker is None:
        speaker, text = _name_prefix(text)
    return speaker, text


def _name_prefix(text: str) -> tuple[str | None, str]:
    m = NAME_PREFIX.match(text)
    if not m or len(m["name"].split()) > 6:
        return None, text
    return m["name"].strip(), text[m.end():]


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines with the 1-based number of their first line."""
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                out.append((number, current))
            current.append(line.rstrip())
        elif current:
            current = []
    return out


def _timed(path: Path, lines: list[str], timing: re.Pattern[str], example: str,
           start_block: int) -> list[Cue]:
    """Cues of a VTT or SRT body: each block is [identifier] timing payload..."""
    cues: list[Cue] = []
    previous: str | None = None
    for number, block in _blocks(lines)[start_block:]:
        head = block[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")) and timing is VTT_TIMING:
            continue
        at = 0 if "-->" in head else 1
        if at >= len(block):
            raise TranscriptError(
                f"{path}: line {number}: a cue without a timing line (expected "
                f"`{example}`), found {head[:60]!r}. Nothing was imported.")
        m = timing.match(block[at].strip())
        if not m:
            raise TranscriptError(
                f"{path}: line {number + at}: {block[at].strip()[:60]!r} is not a cue timing "
                f"(expected `{example}`). Nothing was imported.")
        speaker, text = _clean(block[at + 1:])
        speaker = speaker or previous  # an unnamed cue continues the last speaker
        previous = speaker
        cues.append(Cue(speaker, text, seconds(m[1]), number))
    return cues


def _vtt(path: Path, lines: list[str]) -> list[Cue]:
    if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise TranscriptError(f"{path}: line 1: a WebVTT file starts with `WEBVTT`. Nothing "
                              "was imported.")
    return _timed(path, lines, VTT_TIMING, "00:00:01.000 --> 00:00:04.000", 1)


def _srt(path: Path, lines: list[str]) -> list[Cue]:
    return _timed(path, lines, SRT_TIMING, "00:00:01,000 --> 00:00:04,000", 0)


def _otter(path: Path, lines: list[str]) -> list[Cue]:
    cues: list[Cue] = []
    header: tuple[str, float, int] | None = None
    body: list[str] = []

    def close() -> None:
        if header is not None:
            cues.append(Cue(header[0], " ".join(b.strip() for b in body if b.strip()),
                            header[1], header[2]))

    for number, line in enumerate(lines, start=1):
        m = OTTER_HEADER.match(line.strip())
        if m:
            close()
            header, body = (m["name"].strip(), seconds(m["ts"]), number), []
        elif line.strip().lower().startswith("transcribed by"):
            continue
        elif line.strip():
            if header is None:
                raise TranscriptError(
                    f"{path}: line {number}: words before the first speaker header "
                    f"(expected `Name  0:03` on its own line), found {line.strip()[:60]!r}. "
                    "Nothing was imported.")
            body.append(line)
    close()
    return cues


def _plain(path: Path, lines: list[str]) -> list[Cue]:
    cues: list[Cue] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        start = None
        t = PLAIN_TIME.match(line)
        if t:
            start, line = seconds(t["ts"]), line[t.end():]
        speaker, text = _name_prefix(line)
        if speaker is None:
            if not cues:
                raise TranscriptError(
                    f"{path}: line {number}: expected `Name: what they said`, found "
                    f"{line[:60]!r}. Nothing was imported.")
            last = cues[-1]  # a line without a name continues the last speaker's words
            cues[-1] = Cue(last.speaker, f"{last.text} {line}".strip(), last.start, last.line)
            continue
        cues.append(Cue(speaker, text.strip(), start, number))
    return cues
