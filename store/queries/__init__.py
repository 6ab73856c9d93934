"""Every SQL statement of voicebot. Functions take a Session and never commit: the use case
that calls them owns the transaction. Results are frozen views, never ORM objects."""
