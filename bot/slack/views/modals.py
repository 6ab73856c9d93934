"""Pure builders for voicebot's modals and the capture confirmation message."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.payloads import CaptureForm, EditForm, QuoteButton
from bot.slack.views.blocks import (
    EMOTION_EMOJI,
    SOURCES,
    Blocks,
    attribution,
    button,
    context,
    excerpt,
    mrkdwn_section,
    plain,
    quoted,
)
from store.queries.quotes import QuoteView
from store.vocab import EMOTIONS

CAPTURE_CALLBACK = "save_user_voice_modal"
EDIT_CALLBACK = "quote_edit_modal"


def _option(value: str, text: str) -> dict:
    return {"text": plain(text), "value": value}


def _text_input(block_id: str, label: str, initial: str | None = None, *,
                multiline: bool = False, optional: bool = True, hint: str | None = None,
                max_length: int = 255) -> dict:
    element: dict = {"type": "plain_text_input", "action_id": "value", "multiline": multiline,
                     "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    block = {"type": "input", "block_id": block_id, "label": plain(label), "optional": optional,
             "element": element}
    if hint:
        block["hint"] = plain(hint, 150)
    return block


def _select(block_id: str, label: str, options: list[dict], initial: str | None) -> dict:
    element: dict = {"type": "static_select", "action_id": "value", "options": options}
    chosen = [o for o in options if o["value"] == initial]
    if chosen:
        element["initial_option"] = chosen[0]
    return {"type": "input", "block_id": block_id, "label": plain(label), "optional": True,
            "element": element}


def _detail_blocks(*, speaker: str | None, company: str | None, segment: str | None,
                   source: str, emotion: str | None, first_hand: bool,
                   relayed_by: str | None) -> Blocks:
    emotions = [_option("auto", "Detect automatically")] + [
        _option(e, f"{EMOTION_EMOJI[e]} {e}") for e in EMOTIONS]
    hand = [_option("first_hand", "The user's own words"),
            _option("relayed", "A teammate's account of what a user said")]
    radio = {"type": "radio_buttons", "action_id": "value", "options": hand,
             "initial_option": hand[0] if first_hand else hand[1]}
    return [
        _text_input("speaker", "Who said it", speaker, hint="The user or customer, not the "
                    "teammate who posted it"),
        _text_input("company", "Company / account", company),
        _text_input("segment", "Segment", segment, hint="e.g. enterprise, SMB, trial"),
        _select("source", "Source", [_option(v, t) for v, t in SOURCES], source),
        _select("emotion", "Emotion", emotions, emotion or "auto"),
        {"type": "input", "block_id": "hand", "label": plain("Whose words are these?"),
         "element": radio},
        _text_input("relayed_by", "Relayed by (if relayed)", relayed_by, optional=True),
    ]


def capture_modal(*, message_text: str, form: CaptureForm, speaker: str | None,
                  first_hand: bool) -> dict:
    """The "Save as user voice" form, prefilled from the message."""
    preview, _ = quoted(message_text, limit=2500)
    blocks: Blocks = [
        mrkdwn_section("*The message*\n" + preview),
        _text_input("excerpt", "Verbatim excerpt (optional)", None, multiline=True,
                    hint="Paste part of the message to keep only those exact words. It must "
                    "appear in the message as written.", max_length=3000),
        *_detail_blocks(speaker=speaker, company=None, segment=None, source="slack",
                        emotion=None, first_hand=first_hand, relayed_by=None),
    ]
    return {"type": "modal", "callback_id": CAPTURE_CALLBACK, "title": plain("Save user voice", 24),
            "submit": plain("Save"), "close": plain("Cancel"),
            "private_metadata": form.encode(), "blocks": blocks}


def edit_modal(quote: QuoteView) -> dict:
    body, _ = quoted(quote.text, limit=2500)
    blocks: Blocks = [mrkdwn_section(body), *_detail_blocks(
        speaker=quote.speaker_name, company=quote.company, segment=quote.segment,
        source=quote.source_kind, emotion=quote.emotion, first_hand=quote.first_hand,
        relayed_by=quote.relayed_by)]
    if quote.is_private:
        opts = [_option("shareable", "Let it be shown outside this private conversation")]
        element = {"type": "checkboxes", "action_id": "value", "options": opts}
        if quote.shareable:
            element["initial_options"] = opts
        blocks.append({"type": "input", "block_id": "shareable", "optional": True,
                       "label": plain("Private conversation"), "element": element})
    return {"type": "modal", "callback_id": EDIT_CALLBACK, "title": plain("Edit user voice", 24),
            "submit": plain("Save"), "close": plain("Cancel"),
            "private_metadata": EditForm(quote.id).encode(), "blocks": blocks}


@dataclass(frozen=True)
class Details:
    """What a person entered in the capture or edit modal (validated)."""

    excerpt: str | None
    speaker: str | None
    company: str | None
    segment: str | None
    source: str
    emotion: str | None  # None: detect automatically
    first_hand: bool
    relayed_by: str | None
    shareable: bool | None  # None: the field was not offered


def read_details(values: dict) -> Details:
    """Field values of a submitted capture or edit modal; unknown choices fall back."""
    def text(block: str) -> str | None:
        value = (values.get(block, {}).get("value", {}) or {}).get("value")
        return value.strip() if isinstance(value, str) and value.strip() else None

    def selected(block: str) -> str | None:
        option = (values.get(block, {}).get("value", {}) or {}).get("selected_option")
        return option.get("value") if option else None

    source = selected("source")
    emotion = selected("emotion")
    excerpt = (values.get("excerpt", {}).get("value", {}) or {}).get("value")
    shareable = (values.get("shareable", {}).get("value", {}) or {}).get("selected_options")
    return Details(
        excerpt=excerpt if isinstance(excerpt, str) and excerpt.strip() else None,
        speaker=text("speaker"), company=text("company"), segment=text("segment"),
        source=source if source in dict(SOURCES) else "slack",
        emotion=emotion if emotion in EMOTIONS else None,
        first_hand=(selected("hand") or "first_hand") == "first_hand",
        relayed_by=text("relayed_by"),
        shareable=bool(shareable) if "shareable" in values else None)


def capture_confirmation(quote: QuoteView, *, created: bool, mask: bool,
                         can_change: bool = False) -> tuple[str, Blocks]:
    """"Saved" / "Already saved"; Edit and Delete only for whoever may change the quote."""
    body, _ = quoted(quote.text, limit=500, link=quote.source_url, mask=mask)
    head = "Saved as a user voice." if created else "Already saved as a user voice."
    blocks: Blocks = [mrkdwn_section(f"*{head}*\n{body}"), context(attribution(quote))]
    if quote.is_private and not quote.shareable:
        blocks.append(context(":lock: From a private conversation: shown only here unless "
                              "you mark it shareable."))
    if can_change:
        blocks.append({"type": "actions", "elements": [
            button("Edit details", "quote_edit", QuoteButton(quote.id).encode()),
            button("Delete", "quote_delete", QuoteButton(quote.id).encode(), style="danger")]})
    else:
        by = quote.captured_by or ""
        blocks.append(context(f"Saved by <@{by}>; they or a workspace admin can edit or "
                              "delete it." if by[:1] in {"U", "W"} else
                              "A workspace admin can edit or delete it."))
    return f"{head} \u201c{excerpt(quote.text, 100)}\u201d", blocks
