"""Storage for voicebot: quotes in a SQL database, their vectors in a per-team FAISS index.

Nothing in this package imports ``bot``. Exceptions raised here::

    StoreError
    ├── InvalidQuote        bad input (empty text, too long, unknown source kind ...)
    ├── AlreadyStored       a unique row (a captured message, a digest claim) already exists
    ├── DatabaseUnavailable the database could not be reached
    ├── QueryFailed         the database is up but refused one statement or value
    └── EmbeddingModelError the configured embedding model could not be loaded
"""

from store.errors import (
    AlreadyStored,
    DatabaseUnavailable,
    EmbeddingModelError,
    InvalidQuote,
    QueryFailed,
    StoreError,
)

__all__ = ["StoreError", "InvalidQuote", "AlreadyStored", "DatabaseUnavailable",
           "EmbeddingModelError", "QueryFailed"]
