"""Domain exceptions of the store (see the tree in ``store/__init__.py``)."""


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class InvalidQuote(StoreError, ValueError):
    """A quote that cannot be stored as given; the message says why."""


class AlreadyStored(StoreError):
    """A row with the same unique key is already stored (another writer got there first)."""


class DatabaseUnavailable(StoreError):
    """The database could not be reached or refused the connection."""


class QueryFailed(StoreError):
    """The database is up but refused one statement (too complex, a value it cannot hold);
    not an outage, so nothing to retry and nothing to page anyone about."""


class EmbeddingModelError(StoreError):
    """The embedding model could not be loaded or used."""
