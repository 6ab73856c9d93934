"""Interview transcripts: formats, who the users are, verbatim passages, attribution,
re-import, and clear refusals. Fixtures in tests/data/transcripts/ were written for these
tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.passages import PASSAGE_MAX_CHARS, is_filler, split, spoken_texts
from bot.core.transcript_imports import (
    SpeakerChoiceError,
    TranscriptOptions,
    choose_users,
    to_quotes,
)
from bot.core.transcripts import TranscriptError, read
from bot.slack.views.blocks import MAX_SHOWN_CHARS
from store.queries.quotes import QuoteView
from store.retrieval.embeddings import HashingEmbedder

DATA = Path(__file__).resolve().parent / "data" / "transcripts"
ZOOM = DATA / "GMT20260312-150102_Recording.transcript.vtt"

#: file, format, interviewer flags, the users, words of theirs that must be stored
CASES = [
    (ZOOM, "vtt", ["--interviewer", "Dana Whitfield"], {"Priya Raman"},
     "Last quarter we found a & in a supplier name that broke the whole file."),
    (DATA / "teams_interview.vtt", "vtt", ["--speaker", "jo okafor"], {"Jo Okafor"},
     "I'd love a link that always points at the latest approved frame."),
    (DATA / "support_call.srt", "srt", ["--interviewer", "Sam (CSM)"], {"Lena Vogt"},
     "We uploaded the CSV twice and got every contact twice."),
    (DATA / "otter_export.txt", "otter", ["--interviewer", "Ravi Menon"], {"Elif Kaya"},
     "I booked eleven flights one by one"),
    (DATA / "notes_plain.txt", "plain", ["--interviewer", "Interviewer"], {"Tom Becker"},
     "Our clinic has three rooms and the old tool only knew one calendar. Patients were "
     "double-booked every Friday."),
]


def _read(path: Path):  # type: ignore[no-untyped-def]
    return read(path, path.read_text(encoding="utf-8"))


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    return tmp_path


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


def quotes_in(url: str, make_services) -> list[QuoteView]:  # type: ignore[no-untyped-def]
    from store.queries import quotes as q

    services = make_services(url)
    with services.sessions() as session:
        views = q.views(session, "T1", q.ids(session, "T1"))
    return [views[i] for i in sorted(views)]


def test_passage_limit_is_below_the_slack_display_cut() -> None:
    assert PASSAGE_MAX_CHARS < MAX_SHOWN_CHARS


@pytest.mark.parametrize(("path", "fmt", "flags", "users", "words"), CASES,
                         ids=[c[0].name for c in CASES])
def test_each_format_keeps_only_the_users_words_verbatim(
        path: Path, fmt: str, flags: list[str], users: set[str], words: str) -> None:
    transcript = _read(path)
    assert transcript.format == fmt
    interviewers = flags[1::2] if flags[0] == "--interviewer" else []
    speakers = flags[1::2] if flags[0] == "--speaker" else []
    chosen = choose_users(transcript, interviewers=interviewers, speakers=speakers)
    assert chosen == users
    quotes = to_quotes(path, transcript, chosen, TranscriptOptions(team_id="T1"))
    spoken = spoken_texts(transcript)
    assert quotes and {q.speaker_name for q in quotes} == users
    for q in quotes:
        assert q.speaker_name is not None and q.char_start is not None
        assert spoken[q.speaker_name][q.char_start:q.char_end] == q.text  # exact substring
        assert len(q.text) <= PASSAGE_MAX_CHARS and not is_filler(q.text)
        assert q.text == q.text.strip() and "<" not in q.text and "\n" not in q.text
    assert any(words in q.text for q in quotes)


def test_filler_only_turns_are_not_quotes() -> None:
    transcript = _read(DATA / "teams_interview.vtt")
    texts = [q.text for q in to_quotes("t.vtt", transcript, {"Marcus Lee"},
                                       TranscriptOptions(team_id="T1"))]
    assert "Right." not in texts  # the interviewer's "Right." turn
    assert all(is_filler(t) for t in ("Yeah.", "Mm-hmm.", "uh huh", "Okay, right.", "mhm"))
    assert not is_filler("Yeah, the export is broken.")


def test_long_turns_split_into_whole_sentences_covering_every_word() -> None:
    sentences = [f"Sentence number {i} says something about invoices and exports." for i in
                 range(40)]
    text = " ".join(sentences)
    spans = split(text, 200)
    assert len(spans) > 10
    assert all(e - s <= 200 for s, e in spans)
    assert " ".join(text[s:e] for s, e in spans) == text  # nothing dropped, nothing changed
    assert all(text[e - 1] == "." for _, e in spans)  # whole sentences
    one = "word, " * 80 + "end."  # one sentence longer than the limit: cut at a clause mark
    pieces = split(one, 200)
    assert all(e - s <= 200 for s, e in pieces)
    assert " ".join(one[s:e] for s, e in pieces) == one


def test_ambiguous_speakers_are_refused_with_word_counts() -> None:
    with pytest.raises(SpeakerChoiceError) as exc:
        choose_users(_read(ZOOM))
    message = str(exc.value)
    assert "Priya Raman: 238 words" in message and "Dana Whitfield: 26 words" in message
    assert "--speaker NAME" in message and "--interviewer NAME" in message
    with pytest.raises(SpeakerChoiceError, match="no speaker named 'Dana W'"):
        choose_users(_read(ZOOM), interviewers=["Dana W"])


def test_malformed_file_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match=r"broken_timing.vtt: line 8: .*not a cue timing"):
        _read(DATA / "broken_timing.vtt")
    path = tmp_path / "x.txt"
    path.write_text("Otter header missing\nAna  0:03\nHello there.\n")
    with pytest.raises(TranscriptError, match="line 1: words before the first speaker"):
        _read(path)


def test_cli_attribution_times_and_links(cli_env: Path, make_services,  # type: ignore[no-untyped-def]
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run("import", str(ZOOM), "--team", "T1", "--interviewer", "Dana Whitfield",
               "--company", "Northwind", "--segment", "smb",
               "--recording-url", "https://rec.example/abc") == 0
    assert "added 4, updated 0, unchanged 0" in capsys.readouterr().out
    quotes = quotes_in(f"sqlite:///{cli_env / 'cli.db'}", make_services)
    assert [q.start_seconds for q in quotes] == [5.4, 16.5, 26.4, 58.4]
    first = quotes[0]
    assert first.text.startswith("Sure. So on the last day we export every invoice")
    assert (first.speaker_name, first.company, first.segment, first.source_kind) == \
        ("Priya Raman", "Northwind", "smb", "interview")
    assert first.source_url == "https://rec.example/abc#t=5"
    assert quotes[3].source_url == "https://rec.example/abc#t=58"
    assert first.said_at is not None and first.said_at.isoformat() == "2026-03-12T15:01:02+00:00"
    assert all("Dana" not in (q.speaker_name or "") for q in quotes)


def test_reimport_adds_nothing_and_a_correction_updates_only_changed_passages(
        cli_env: Path, make_services, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path = cli_env / ZOOM.name
    shutil.copy(ZOOM, path)
    args = ("import", str(path), "--team", "T1", "--interviewer", "Dana Whitfield")
    assert run(*args) == 0
    url = f"sqlite:///{cli_env / 'cli.db'}"
    before = quotes_in(url, make_services)
    assert run(*args) == 0
    assert "added 0, updated 0, unchanged 4" in capsys.readouterr().out
    path.write_text(path.read_text().replace("takes two full days", "takes three full days"))
    assert run(*args) == 0
    assert "added 0, updated 1, unchanged 3" in capsys.readouterr().out
    after = quotes_in(url, make_services)
    assert [q.id for q in after] == [q.id for q in before]
    changed = [(b, a) for b, a in zip(before, after) if b.text != a.text]
    assert len(changed) == 1
    old, new = changed[0]
    assert "three full days" in new.text and new.revisions == 1 and old.revisions == 0
    transcript = _read(path)
    spoken = spoken_texts(transcript)["Priya Raman"]
    for q in after:  # offsets follow the corrected spoken text
        assert spoken[q.char_start:q.char_end] == q.text


def test_cli_refuses_ambiguous_speakers_and_stores_nothing(
        cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("import", str(DATA / "support_call.srt"), "--team", "T1") == 1
    err = capsys.readouterr().err
    assert "2 speakers" in err and "Lena Vogt: 21 words" in err and "Sam (CSM): 10 words" in err
    assert run("import", str(DATA / "broken_timing.vtt"), "--team", "T1",
               "--speaker", "Ana Silva") == 1
    assert "line 8" in capsys.readouterr().err
    assert run("import", str(DATA / "notes_plain.txt"), "--team", "T1", "--format", "plain",
               "--speaker", "Tom Becker") == 0
    assert "added 2" in capsys.readouterr().out
