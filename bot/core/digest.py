"""The weekly digest's content: new voices, themes, emotions, quotes used, the habit line.

:class:`DigestService.build` reads one team's week and returns a frozen :class:`DigestData`;
:mod:`bot.slack.views.digest` renders it and :mod:`bot.slack.digest_delivery` posts it once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from store.clock import months_before
from store.policy import visible_in
from store.queries import asks, uses
from store.queries import quotes as q
from store.queries.workspaces import WorkspaceSettings
from store.retrieval.index import IndexRegistry

HABIT_TARGET = (2, 3)  # distinct users heard per person per week
THEME_SIMILARITY = 0.45
STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below
between both but by can cant could did do does doing dont down during each even few for from
further get got had has have having he hello her here hers hi him his how i if im in into is
it its itself ive just like me more most much my need no nor not now of off on once one only
or other our out over own please really same she should so some still such than thank thanks
that the their them then there these they this those through to too under until up very want
was we were what when where which while who whom why will with would you your yours
""".split())
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


@dataclass(frozen=True)
class Theme:
    label: str
    size: int
    representative: q.QuoteView


@dataclass(frozen=True)
class Habit:
    user_id: str
    people: int
    quotes: int


@dataclass(frozen=True)
class DigestData:
    team_id: str
    start: datetime
    end: datetime
    total: int
    people: int
    companies: int
    themes: tuple[Theme, ...]
    frustrated: tuple[q.QuoteView, ...]
    confused: tuple[q.QuoteView, ...]
    disappointed: tuple[q.QuoteView, ...]
    delighted: tuple[q.QuoteView, ...]
    used: tuple[tuple[q.QuoteView, int], ...]
    habits: tuple[Habit, ...]
    #: Topics argued this week whose newest quote is older than the workspace's threshold:
    #: (topic, newest quote's date); only topics asked where this digest's readers could see.
    old_evidence: tuple[tuple[str, datetime], ...] = ()
    #: some of the week's quotes name no company (the companies are the ones named)
    unnamed_companies: bool = False
    stale_months: int = 6

    @property
    def quiet(self) -> bool:
        return self.total == 0


def week_ending(settings: WorkspaceSettings, now: datetime) -> tuple[datetime, datetime]:
    """The 7 days before the most recent scheduled digest moment at or before ``now``."""
    tz = ZoneInfo(settings.digest_timezone)
    local = now.astimezone(tz)
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    moment += timedelta(days=settings.digest_weekday - local.weekday())
    if moment > local:
        moment -= timedelta(days=7)
    return moment - timedelta(days=7), moment


class DigestService:
    def __init__(self, sessions: sessionmaker[Session], indexes: IndexRegistry) -> None:
        self.sessions = sessions
        self.indexes = indexes

    def build(self, team_id: str, start: datetime, end: datetime,
              channel_id: str | None, *, stale_months: int = 6) -> DigestData:
        """Everything the digest says about ``[start, end)``, visible in ``channel_id``."""
        with self.sessions() as session:
            ids = q.captured_between(session, team_id, start, end, channel_id)
            views = q.views(session, team_id, ids)
            used = self._used(session, team_id, start, end, channel_id)
            old = asks.argued_on_old_evidence(session, team_id, start, end,
                                              months_before(end, stale_months), channel_id)
        week = [views[i] for i in ids if i in views]
        people = {v.speaker_key for v in week if v.speaker_key}
        companies = {v.company_key for v in week if v.company_key}

        def by_emotion(name: str) -> tuple[q.QuoteView, ...]:
            found = [v for v in week if v.emotion == name]
            found.sort(key=lambda v: -(v.emotion_confidence or 0))
            return tuple(found[:3])

        return DigestData(
            team_id=team_id, start=start, end=end, total=len(week), people=len(people),
            companies=len(companies), themes=self._themes(team_id, week),
            frustrated=by_emotion("frustrated"), confused=by_emotion("confused"),
            disappointed=by_emotion("disappointed"), delighted=by_emotion("delighted"),
            used=used, habits=self._habits(week), old_evidence=tuple(old),
            stale_months=stale_months,
            unnamed_companies=any(not v.company_key for v in week))

    def _used(self, session: Session, team_id: str, start: datetime, end: datetime,
              channel_id: str | None) -> tuple[tuple[q.QuoteView, int], ...]:
        rows = uses.most_used(session, team_id, start, end, limit=20)
        views = q.views(session, team_id, [r[0] for r in rows])
        out = [(views[qid], int(n)) for qid, n in rows
               if qid in views and visible_in(views[qid], channel_id)]
        return tuple(out[:5])

    def _themes(self, team_id: str, week: list[q.QuoteView]) -> tuple[Theme, ...]:
        ids, vecs = self.indexes.get(team_id).present([v.id for v in week])
        by_id = {v.id: v for v in week}
        present = [by_id[i] for i in ids]
        if len(present) < 2:
            return ()
        clusters: list[list[int]] = []
        centroids: list[np.ndarray] = []
        for row, vec in enumerate(vecs):
            sims = [float(vec @ (c / (np.linalg.norm(c) or 1))) for c in centroids]
            best = int(np.argmax(sims)) if sims else -1
            if best >= 0 and sims[best] >= THEME_SIMILARITY:
                clusters[best].append(row)
                centroids[best] = centroids[best] + vec
            else:
                clusters.append([row])
                centroids.append(vec.copy())
        themes = []
        for members, centroid in zip(clusters, centroids):
            if len(members) < 2:
                continue
            unit = centroid / (np.linalg.norm(centroid) or 1)
            rep = max(members, key=lambda r: float(vecs[r] @ unit))
            themes.append(Theme(label=_label([present[r].text for r in members]),
                                size=len(members), representative=present[rep]))
        themes.sort(key=lambda t: -t.size)
        return tuple(themes[:5])

    @staticmethod
    def _habits(week: list[q.QuoteView]) -> tuple[Habit, ...]:
        heard: dict[str, set[str]] = {}
        counts: Counter[str] = Counter()
        for v in week:
            if v.captured_by and v.captured_by[:1] in {"U", "W"}:
                counts[v.captured_by] += 1
                if v.speaker_key:
                    heard.setdefault(v.captured_by, set()).add(v.speaker_key)
        return tuple(sorted((Habit(u, len(heard.get(u, ())), n) for u, n in counts.items()),
                            key=lambda h: (-h.people, h.user_id)))


def _label(texts: list[str]) -> str:
    """Two or three words that the theme's quotes share most."""
    docs: Counter[str] = Counter()
    for text in texts:
        docs.update({w for w in (m.lower() for m in WORD.findall(text)) if w not in STOPWORDS})
    words = [w for w, n in docs.most_common(3) if n >= 2] or [w for w, _ in docs.most_common(2)]
    return " / ".join(words) if words else "assorted"
