"""voicebot: users' verbatim words, present in the room where priorities are argued."""

__version__ = "0.1.0"
