"""Pure Block Kit builders: data in, ``(fallback_text, blocks)`` or view dicts out. No
network, database or Bolt; every string the bot did not write is escaped."""
