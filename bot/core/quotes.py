"""A thin facade over the quote use cases, for the callers not moved to them yet (the Slack
listeners reach it as ``services.quotes``). It holds no logic: each attribute is the method
of the small use case that does the job. New code uses those through
:class:`bot.container.Services` (``services.capture.save(...)``, ``services.deletion...``).
"""

from __future__ import annotations

from bot.core.capture import Capture
from bot.core.deletion import Deletion
from bot.core.edits import Edits
from bot.core.lookup import Lookup
from bot.core.usage import Usage


class Quotes:
    def __init__(self, capture: Capture, edits: Edits, deletion: Deletion, lookup: Lookup,
                 usage: Usage) -> None:
        self.save = capture.save
        self.edit_message = edits.edit_message
        self.keep_as_saved = edits.keep_as_saved
        self.update_details = edits.update_details
        self.mark_conversation_private = edits.mark_conversation_private
        self.delete = deletion.delete
        self.delete_message = deletion.delete_message
        self.purge_team = deletion.purge_team
        self.get = lookup.get
        self.record_use = usage.record_use
