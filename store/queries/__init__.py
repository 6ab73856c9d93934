"""Every SQL statement of voicebot. Functions take a Session and never commit: the use case
that calls them owns the transaction. Results are plain values or frozen views, never ORM
objects.

quotes (NewQuote, QuoteView, reads, filters), new_quotes (insert one or a batch), edits
(changes to stored quotes), voices (near-duplicate links), vectors (stored vectors),
people (one person's traces), audit (removals), uses (quotes shown or shared), stats (App
Home counts), sync (changes since a high-water mark), workspaces (settings), digest_claims
(exactly-once digest), pending (shortcut text), slack_tokens (token encryption).
"""
