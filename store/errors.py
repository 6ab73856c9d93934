"""Domain exceptions of the store (see the tree in ``store/__init__.py``)."""


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class InvalidQuote(StoreError, ValueError):
    """A quote that cannot be stored as given; the message says why."""


class DatabaseUnavailable(StoreError):
    """The database could not be reached or refused the connection."""


class EmbeddingModelError(StoreError):
    """The embedding model could not be loaded or used."""
