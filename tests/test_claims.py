"""The claims detector: which messages speak for users, and what they are about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.claims import find_claim, plain

DATA = Path(__file__).resolve().parent.parent / "bench" / "data"


@pytest.mark.parametrize(("text", "topic"), [
    ("users want dark mode", "dark mode"),
    ("Customers hate the new onboarding flow", "new onboarding flow"),
    ("nobody uses the export button anymore", "export button anymore"),
    ("our users don't care about the mobile app", "mobile app"),
    ("I think people would pay more for SSO", "SSO"),
    ("customers in Germany don't want to use credit cards", "use credit cards"),
    ("the users I talked to want a calendar integration", "calendar integration"),
    ("Ok so my take: users want fewer steps in checkout. Everything else is noise.",
     "fewer steps in checkout"),
    ("<@U123> honestly customers are frustrated with :rage: the refunds", "refunds"),
])
def test_claims_about_users_are_found_with_their_topic(text: str, topic: str) -> None:
    claim = find_claim(text)
    assert claim is not None
    assert claim.topic.lower() == topic.lower()


@pytest.mark.parametrize("text", [
    "do users actually want dark mode?",
    "is it true that nobody uses the budgeting feature?",
    "we're shipping dark mode to all users next sprint",
    "users in Brazil can now pay with Pix",
    "I'll reach out to the three customers who asked for a sandbox",
    "people in the design guild want feedback on the icons",
    "engineers hate writing migrations",
    "a customer told me \"the export is painful\" yesterday",
    "the build is slow again",
    "people, the kitchen is a mess again",
    "",
    "   ",
    "🙏",
])
def test_questions_plans_and_other_claims_are_not_claims(text: str) -> None:
    assert find_claim(text) is None


def test_markup_is_removed_but_link_labels_kept() -> None:
    assert plain("see <https://x.test/a|the doc> <@U1> :tada:").split() == ["see", "the", "doc"]


def test_huge_and_odd_input_is_handled() -> None:
    assert find_claim("users want " + "x" * 100_000) is not None
    odd = find_claim("\u202eusers\u0000 want\u200b offline mode")
    assert odd is not None and odd.topic == "offline mode"
    assert find_claim("ÜSERS WANT ÖFFLINE MODE") is None


@pytest.mark.parametrize("name", ["claims.jsonl", "claims_holdout.jsonl"])
def test_precision_on_the_labelled_sets_stays_above_the_bar(name: str) -> None:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    flagged = [r for r in rows if find_claim(r["text"]) is not None]
    correct = sum(r["claim"] for r in flagged)
    assert len(rows) >= 75 and flagged
    assert correct / len(flagged) >= 0.90
