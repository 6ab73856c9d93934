"""Synthetic product feedback for training the emotion head (bench/train_emotion.py).

GoEmotions is Reddit: it has few emoji, few support tickets and few "not happy with your
product" lines. This module composes short product-feedback lines from templates (a product
area x a phrasing of one emotion, with optional emoji, negation and typos) so that the head
sees those voices in training. The templates are written for this purpose, separately from
the hand-written dev set (bench/data/emotion_product_dev.tsv) and the test-only sanity set
(tests/data/emotion_sanity.tsv); tests/test_emotion_sanity.py checks that no generated line
equals a sanity line.

It also gives GoEmotions items emoji (:func:`emoji_variants`): an item of an emotion gets one
of that emotion's emoji, and a neutral statement with an emotion's emoji takes that emotion.

    .venv/bin/python bench/emotion_augment.py   # prints a sample
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from store.retrieval.cues import EMOJI  # noqa: E402
from store.vocab import EMOTIONS  # noqa: E402

AREAS = (
    "the export", "the dashboard", "SSO", "the mobile app", "billing", "the API", "search",
    "the calendar sync", "notifications", "the invoice page", "the CSV import", "the reports",
    "onboarding", "the new editor", "the Slack integration", "permissions", "the login page",
    "the admin console", "the desktop client", "the checkout", "the analytics", "2FA",
    "the audit log", "user provisioning", "the Android app", "the iOS app", "file uploads",
    "the webhooks", "dark mode", "the new pricing", "the chat widget", "offline mode",
)
PHRASES: dict[str, tuple[str, ...]] = {
    "frustrated": (
        "{A} is broken again!", "{A} never works.", "{A} keeps crashing, fix it!",
        "Why does {a} fail every single time?!", "I'm fed up with {a}.",
        "{A} doesn't work. Again.", "Enough! {A} has been down all day.", "Stop breaking {a}!",
        "I'm not happy with {a}. Cancel my subscription.", "{A} times out again and again.",
        "Seriously, {a} is unusable today.", "So annoying, {a} logged me out twice.",
        "I'm angry that {a} lost our data.", "{A} still isn't fixed after three tickets!",
        "How many times do I have to report {a}?", "{A} is a joke. Nothing works.",
        "Ugh, {a} froze again.", "This is unacceptable, {a} has been failing for a week.",
        "Nobody answers about {a} and it's driving me nuts.",
        "I can't stand {a} anymore.", "{A} won't load and I'm losing my mind.",
        "Not happy. {A} broke our whole workflow.", "What a mess, {a} is down AGAIN.",
        # a later clause takes back what was said of it
        "Support says {a} is fixed. It isn't!", "You told us {a} works now. It doesn't.",
        "You removed {a} without any warning, put it back now!",
        "{A} is supposed to just work, but it doesn't and I'm sick of it.",
    ),
    "confused": (
        "How do I use {a}?", "I don't understand {a}.", "Where do I find {a}?",
        "Not sure how {a} works, can you explain?", "What does {a} do exactly?",
        "Is {a} included in our plan?", "Can someone explain {a} to me?",
        "I'm confused by {a}, which option should I pick?", "Wait, where did {a} go?",
        "How is {a} supposed to work with two accounts?", "I can't figure out {a}.",
        "Does {a} work for guests too?", "I have no idea how to set up {a}.",
        "Which settings control {a}?", "Hmm, why does {a} show two different numbers?",
        "Not clear to me what {a} changes. Any docs?", "What's the difference between {a} "
        "and the old version?",
    ),
    "delighted": (
        "I love {a}!", "{A} is amazing, thank you!", "Thanks, {a} works perfectly now.",
        "Really happy with {a}.", "Never had any trouble with {a}, great job.",
        "No complaints about {a}, it just works.", "{A} is fantastic.",
        "Huge thanks for fixing {a}!", "So glad you improved {a}, it's great.",
        "{A} saves us hours, we love it.", "Wow, {a} is so fast now.",
        "Great work on {a}, the team is thrilled.", "Best {b} I've used. Thank you!",
        "{A} is excellent, well done.", "Impressed with {a}, nice job.",
        "Not a single problem with {a} since the update. Love it.",
        "I can't praise {a} enough.", "Thank you so much, {a} is exactly what we needed.",
        # a fear that did not come true; a wish that holds it up as the standard
        "I was afraid {a} would be a pain, but it wasn't. Great job.",
        "Thought {a} would be hard to set up. It wasn't!", "Wish I had switched to {b} sooner!",
        "I wish every vendor made {b} like you do.",
        # a disliked thing that is gone (the mirror image of the loss lines above)
        "Finally you got rid of the old {b}, it was terrible. Thanks!",
        "Thanks for removing the annoying banner from {a}, love it.",
        "I used to hate {a}, now it's my favourite part.",
        "The old {b} was painful. Glad it's gone!",
    ),
    "disappointed": (
        "I expected more from {a}.", "{A} is a letdown.", "Sadly {a} got worse after the update.",
        "Not happy with {a}, we hoped for better.", "{A} is not worth the price.",
        "Unfortunately {a} doesn't do what we were promised.",
        "We had high hopes for {a}, but it fell short.", "{A} used to be good. Not anymore.",
        "Disappointed that {a} still lacks basic options.", "A shame that {a} was removed.",
        "I miss the old {b}, the new one is worse.", "{A} didn't live up to the demo.",
        "Honestly a bit sad about {a}.", "Too bad {a} is so limited.",
        "{A} isn't what I hoped for.", "We were promised {a} this quarter. Still nothing, sadly.",
        "It's a pity {a} is only in the premium plan.",
        # praise taken back or only wished for
        "I'd love to say {a} is great now, but it isn't.", "I tried to like {a}. I don't.",
        "We hoped {a} would help our team. It didn't.", "Wish I could recommend {a} to others.",
        # a liked thing taken away (added with cues-3's loss cue, after the sanity set's
        # loss lines were written and seen; no template equals a sanity line, see the test)
        "Why did you remove {a}? It was the best thing in the app.",
        "{A} is gone after the update and it was so useful.",
        "We really liked {a}. Sad that you took it away.", "Please bring back {a}, it was perfect.",
        "{A} used to be great. Now it's gone.", "Such a pity you retired {a}, our team loved it.",
    ),
    "neutral": (
        "We use {a} every week.", "{A} is used by our finance team.",
        "Please send the documentation for {a}.", "We don't use {a} yet.",
        "Our team started using {a} in May.", "Please enable {a} for account 4471.",
        "We mostly use {a} on Mondays.", "{A} is managed by our IT department.",
        "I checked {a} this morning.", "We set up {a} for the sales team.",
        "We plan to roll out {a} next quarter.", "Our admins configure {a}.",
        "Attached is a screenshot of {a}.", "We're not using {a} at the moment.",
        "The finance team reviews {a} monthly.", "I opened {a} on my laptop.",
    ),
}
# Factual problem reports: neutral as they stand; an emotion's emoji gives them that emotion.
REPORTS = (
    "{A} timed out.", "{A} again. It shows an error.", "{A} is slow today.",
    "{A} failed at 9:14 this morning.", "Export again! {A} times out.", "{A} shows a blank page.",
    "{A} logged me out.", "{A} returned a 500.", "{A} changed after the update.",
)
# Factual good news: neutral as it stands; a delighted emoji makes it delighted.
NEWS = ("{A} works again.", "{A} is back up.", "{A} loaded in a second.",
        "{A} was updated today.", "Just tried {a} on the new version.")
GREETINGS = ("", "", "", "Hi team, ", "Hello, ", "Hey, ", "FYI: ")
SIGN_OFFS = ("", "", "", " Regards, Tom", " - sent from my phone", " (ticket #{n})")


def _typo(text: str, rng: random.Random) -> str:
    """One swapped or dropped letter inside a word of four letters or more."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = (w[:j] + w[j + 1] + w[j] + w[j + 2:]) if rng.random() < 0.5 else w[:j] + w[j + 1:]
    return " ".join(words)


def _emoji(emotion: str, rng: random.Random) -> str:
    marks = [m for m in EMOJI[emotion] if not m.isascii()]
    return rng.choice(marks) * rng.choice((1, 1, 2))


def _voice(text: str, rng: random.Random) -> str:
    greeting = rng.choice(GREETINGS)
    if greeting:
        text = text[0].lower() + text[1:] if not text[:3].isupper() else text
    text = greeting + text + rng.choice(SIGN_OFFS).format(n=rng.randrange(1000,
                                                                                        99999))
    if rng.random() < 0.15:
        text = _typo(text, rng)
    if rng.random() < 0.2:
        text = text.lower()
    return text


def product_lines(per_class: int = 500, seed: int = 0) -> list[tuple[str, str]]:
    """``per_class`` ``(text, emotion)`` lines per emotion, plus ``per_class`` factual
    reports and news, some marked with an emotion's emoji (then labelled with it)."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for emotion in EMOTIONS:
        for _ in range(per_class):
            area = rng.choice(AREAS)
            text = rng.choice(PHRASES[emotion]).format(
                a=area, A=area[0].upper() + area[1:], b=area.removeprefix("the "))
            if emotion != "neutral" and rng.random() < 0.3:
                text += " " + _emoji(emotion, rng)
            out.append((_voice(text, rng), emotion))
    for _ in range(per_class):
        area = rng.choice(AREAS)
        good = rng.random() < 0.3
        text = rng.choice(NEWS if good else REPORTS).format(a=area, A=area[0].upper() + area[1:])
        emotion = rng.choice(("neutral", "delighted") if good else
                             ("neutral", "frustrated", "confused", "disappointed"))
        if emotion != "neutral":
            mark = _emoji(emotion, rng)
            text = f"{mark} {text}" if rng.random() < 0.2 else f"{text} {mark}"
        out.append((_voice(text, rng), emotion))
    return out


def emoji_variants(texts: list[str], labels: list[int], share: float = 0.15,
                   seed: int = 0) -> list[tuple[int, str, int]]:
    """``(row, text with an emoji, label)`` for a ``share`` of the items: an emotion's own
    emoji on its items; on a neutral item an emotion's emoji, and that emotion as label."""
    rng = random.Random(seed)
    out = []
    neutral = EMOTIONS.index("neutral")
    for i, (text, y) in enumerate(zip(texts, labels)):
        if rng.random() >= share:
            continue
        emotion = EMOTIONS[y] if y != neutral else rng.choice(
            [e for e in EMOTIONS if e != "neutral"])
        out.append((i, f"{text} {_emoji(emotion, rng)}", EMOTIONS.index(emotion)))
    return out


if __name__ == "__main__":
    for text, emotion in random.Random(1).sample(product_lines(), 25):
        print(f"{emotion:13} {text}")
