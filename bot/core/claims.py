"""Claims about users: "users want…", "customers hate…", "nobody uses…".

A message *speaks for users* when one of its sentences, which is not a question, has users
(or customers, people, admins, nobody…) as the subject of a verb of wanting, feeling, using
or behaving. The rule is small and lexical on purpose: it must be predictable, explainable
and precise (an assistant that interrupts wrongly gets muted). Its precision and recall on a
labelled set of channel messages are in ``bench/CLAIMS.md`` (``python bench/claims.py``).

Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Who a claim is about. Plural or quantified: "a customer told me" reports one person.
_GROUPS = ("users", "customers", "clients", "people", "folks", "buyers", "admins",
           "teams", "shoppers", "members", "subscribers", "merchants", "everyone",
           "everybody", "nobody", "no one", "no user", "no customer", "average user",
           "average customer", "every user", "every customer", "anyone")
# Words between the subject and the verb that keep it a claim.
_ADVERBS = frozenset("""just really always never mostly barely still all even actually
honestly definitely probably happily usually already rarely seriously literally totally
hardly simply genuinely clearly basically typically generally obviously ever rather
much more less so also only""".split())
_AUX = frozenset("""do does don't doesn't dont doesnt would wouldn't wouldnt 'd won't wont will
are aren't arent is isn't isnt can't cant cannot couldn't has have hasn't haven't
did didn't didnt need keep kept might may""".split())
# Verbs (and "be + state") that say what users want, feel or do.
_VERBS = frozenset("""want wants wanted need needs love loves loved like likes hate hates hated
dislike dislikes care cares use uses used expect expects prefer prefers ignore ignores
understand understands read reads struggle struggles find finds complain complains
complaining ask asks asking asked request requests requesting demand demands trust trusts
open opens click clicks touch touches notice notices finish finishes change changes
feel feels wait waits waiting pay pays switch switches churn churns leave
leaves accept accepts tolerate tolerates trade know knows think thinks worry worries
forget forgets forgetting telling tell tells mind minds enjoy enjoys avoid avoids
fear fears miss misses look looks search searches abandon abandons drop drops quit quits
buy buys choose chooses value values appreciate appreciates rely relies stand
""".split())
_STATES = frozenset("""confused frustrated annoyed scared tired desperate happy fine lost angry
upset afraid unhappy sick fed bored excited delighted stuck worried furious overwhelmed
willing ok okay glad asking complaining struggling waiting begging screaming""".split())
_BE = frozenset({"be", "are", "is", "get", "gets", "feel", "feels", "seem", "seems", "were"})
# A short phrase between subject and verb ("customers in Germany don't…") is allowed, unless
# it names a group inside the company ("people in the design guild want…" are colleagues).
_PREPOSITIONS = frozenset({"in", "on", "from", "at", "of", "with", "i", "we", "who", "that"})
_RELATIVE = frozenset({"i", "we", "who", "that"})
# Announcements and plans: "users in Brazil can now pay…", "customers get migrated…".
_NOT_A_CLAIM = frozenset({"can", "now", "will", "get", "got", "today", "tomorrow", "next"})
_INTERNAL = frozenset("""team teams office guild squad department sales marketing engineering
design support ops finance legal channel company here standup meeting call""".split())
_QUESTION_START = frozenset("""do does did are is was were has have can could would should will
what why how who which where when any anyone anybody shall""".split())
_FILLER_TAIL = re.compile(
    r"[\s,.;:!—-]*(tbh|lol|imo|imho|honestly|trust me|let's be real|at all|"
    r"that's the whole story|it's the #1 thing|everything else is noise)\s*[.!]*$",
    re.IGNORECASE)

_MARKUP = re.compile(r"<[@#!][^>]*>|<(?:https?|mailto):[^>|]*(?:\|([^>]*))?>|:[a-z0-9_+-]+:")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+|(?<=:)\s+(?=[A-Z])")
_TOKENS = re.compile(r"[\w']+|[^\w\s]")


@dataclass(frozen=True)
class Claim:
    """A sentence that speaks for users, and the topic to look up."""

    sentence: str
    group: str
    verb: str
    topic: str


def plain(text: str) -> str:
    """Slack markup out: mentions, channel links and emoji codes dropped, link labels kept;
    invisible control and format characters (zero-width, bidi overrides) dropped."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text)
                   if c in "\n\t" or unicodedata.category(c) not in {"Cc", "Cf"})
    return _MARKUP.sub(lambda m: m.group(1) or " ", text)


def find_claim(text: str) -> Claim | None:
    """The first sentence of ``text`` that speaks for users, or None."""
    for sentence in _SENTENCES.split(plain(text)):
        sentence = sentence.strip()
        if not sentence or _is_question(sentence):
            continue
        claim = _claim_in(sentence)
        if claim is not None:
            return claim
    return None


def _is_question(sentence: str) -> bool:
    if sentence.rstrip().endswith("?"):
        return True
    first = sentence.split(maxsplit=1)[0].lower().strip(",:") if sentence.split() else ""
    return first in _QUESTION_START


def _claim_in(sentence: str) -> Claim | None:
    tokens = [t.lower().replace("’", "'") for t in _TOKENS.findall(sentence)]
    words = " ".join(tokens)
    for group in _GROUPS:
        for match in re.finditer(rf"(?<![\w']){re.escape(group)}(?![\w'])", words):
            start = len(words[:match.end()].split())
            found = _verb_after(tokens, start)
            if found is not None:
                verb, end = found
                return Claim(sentence=sentence, group=group, verb=verb,
                             topic=_topic(sentence, tokens, end))
    return None


def _verb_after(tokens: list[str], i: int) -> tuple[str, int] | None:
    """The claim verb after the subject ending at ``tokens[i]``, and the index after it."""
    # An optional short phrase: "in Germany", "on the free plan", "I talked to". A relative
    # clause's own verb ("customers who asked for…") is not the claim's verb.
    if i < len(tokens) and tokens[i] in _PREPOSITIONS:
        first = i + 2 if tokens[i] in _RELATIVE else i + 1
        for j in range(first, min(i + 5, len(tokens))):
            token = tokens[j]
            if token in _AUX or token in _VERBS or token in _ADVERBS:
                i = j
                break
            if token in _INTERNAL or token in _NOT_A_CLAIM or not token.isalpha():
                return None
        else:
            return None
    seen_aux = False
    for j in range(i, min(i + 6, len(tokens))):
        token = tokens[j]
        if token in _VERBS:
            return token, j + 1
        if token in _BE and j + 1 < len(tokens):
            nxt = tokens[j + 1]
            if nxt in _STATES:
                return f"{token} {nxt}", j + 2
            if nxt in _ADVERBS and j + 2 < len(tokens) and tokens[j + 2] in _STATES:
                return f"{token} {tokens[j + 2]}", j + 3
        if token == "rather" and j + 1 < len(tokens) and tokens[j + 1] == "have":
            return "rather have", j + 2
        if token in _AUX and not seen_aux:
            seen_aux = True
            continue
        if token in _AUX or token in _ADVERBS or token in {"not", "n't", "'t", "t"}:
            continue
        return None
    return None


def _topic(sentence: str, tokens: list[str], end: int) -> str:
    """What the claim is about: the words after the verb, or the whole sentence."""
    rest = tokens[end:]
    while rest and rest[0] in {"to", "for", "about", "that", "with", "it", "having", "being",
                               "a", "an", "the", "lot", "more", "of", "by", "over"}:
        rest = rest[1:]
    text = " ".join(rest)
    text = re.sub(r"\s+([.!?',;])", r"\1", text)
    # The claim's own clause: up to the first comma, dash or end of sentence.
    text = re.split(r"[.!?,;]|\s(?:—|-)\s", text, maxsplit=1)[0]
    text = _FILLER_TAIL.sub("", text).strip(" ,.")
    return text if len(text) >= 3 else sentence.strip()
