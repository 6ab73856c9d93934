"""Does a message say something worth keeping as a user's words?

Listening in a shared channel (:mod:`bot.core.listening`) keeps customers' messages, but not
"Hi team!", "thanks :pray:", ":+1:" or "any update?". The rule: after Slack markup (mentions,
channel links, URLs, ``:emoji:`` codes), emoji and punctuation are removed, a message needs
at least :data:`MIN_WORDS` words that are neither courtesy (greetings, thanks,
acknowledgements, nudges) nor English function words.

The threshold is measured, not guessed: ``python -m bench.listen_filter`` scores the rule
on ``tests/data/listen_messages.tsv`` (labelled customer messages) for each threshold and
writes ``bench/LISTEN.md``. Missing a customer's words costs more than keeping a "thanks",
so the bench picks the threshold with the best F1 among those that keep at least 95% of
the messages with content.
"""

from __future__ import annotations

import re
import unicodedata

#: Chosen by bench/listen_filter.py (see bench/LISTEN.md).
MIN_WORDS = 2

COURTESY = frozenset("""
hi hello hey hiya morning afternoon evening good day everyone everybody all team folks there
guys yall welcome happy weekend friday new year nice great have hope well whole
thanks thank thx ty tysm cheers appreciate appreciated appreciation much lot lots so very
really again quick help helpful kind awesome amazing perfect super cool wonderful fantastic
best you're
ok okay k kk sure yes yep yeah yup no nope np noted ack acknowledged got it will do done
sounds sound fine confirmed thing right alright gotcha understood
any update updates news following follow up bump checking check in on this one just ping
pinging chasing
lol haha hahaha hmm oh ah wow plus same here too me also agree agreed
let know back soon shortly tomorrow later speak talk bye see brb
loop looping cc adding add added from our side take over pass passing closing close
now works working all
""".split())

FUNCTION_WORDS = frozenset("""
a an the and or but if then than so as at by for from in into of on onto to with without
about i me my we us our you your he she they them their it its is are was were be been
being am do does did doing have has had having can could would should may might must shall
this that these those there here what which who whom whose when where why how
not no nor just only also too very up out over under again once get gets getting let lets
i'm i'll we'll we're we've you'll it's that's there's let's i've
""".split())

_MARKUP = re.compile(r"<[^>\s][^>]*>")  # <@U123>, <#C1|general>, <!here>, <https://…|…>
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+(?:::[a-z0-9_\-]+)?:")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text: str) -> list[str]:
    """The message's words, lower-cased: markup, emoji and punctuation removed."""
    text = _EMOJI_CODE.sub(" ", _MARKUP.sub(" ", text.lower()))
    text = "".join(" " if unicodedata.category(c) in {"So", "Sk", "Cs", "Co"} else c
                   for c in unicodedata.normalize("NFKC", text))
    return [w.replace("’", "'") for w in _WORD.findall(text)]


def substantive_words(text: str) -> list[str]:
    """Words that are neither courtesy nor function words."""
    return [w for w in words(text) if w not in COURTESY and w not in FUNCTION_WORDS]


def has_content(text: str, min_words: int = MIN_WORDS) -> bool:
    """True when ``text`` says something of its own (see the module docstring)."""
    return len(substantive_words(text)) >= min_words
