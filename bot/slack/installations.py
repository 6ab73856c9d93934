"""Slack OAuth tokens encrypted at rest.

:class:`EncryptedInstallationStore` wraps slack-sdk's ``SQLAlchemyInstallationStore``
behind slack-sdk's own ``InstallationStore`` interface: it encrypts the bot, user and
refresh tokens before ``save`` and decrypts them after ``find_*``; everything else is
delegated unchanged. Keys come from ``VOICEBOT_SECRET_KEY`` (Fernet keys, comma-separated,
newest first): the first encrypts, every one decrypts, so a key is rotated by putting a new
one in front, running ``voicebot secrets rotate``, and then dropping the old one.

Stored values that start with ``xox`` are plaintext tokens from before encryption;
:func:`secure_stored_tokens` (run by ``voicebot db upgrade``, ``voicebot serve`` and
``voicebot secrets encrypt``) encrypts them.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from sqlalchemy import Engine

from bot.config import NEW_KEY_HINT, ConfigError, Settings
from store.queries.slack_tokens import TokenCount, rewrite_tokens, stored_tokens
from store.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE, TOKEN_COLUMNS

log = logging.getLogger(__name__)

PLAINTEXT_PREFIX = "xox"  # every Slack bot/user/refresh token; a Fernet token starts "gAAAA"

T = TypeVar("T", Bot, Installation)


class TokenKeyError(ConfigError):
    """A stored token cannot be decrypted with any key in VOICEBOT_SECRET_KEY."""


class TokenCipher:
    """Fernet encryption of token strings with a list of keys, newest first."""

    def __init__(self, keys: Sequence[str]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        if not keys:
            raise ConfigError("VOICEBOT_SECRET_KEY is not set; " + NEW_KEY_HINT + ".")
        self._fernet = MultiFernet([Fernet(k.encode("ascii")) for k in keys])

    @staticmethod
    def is_plaintext(value: str) -> bool:
        return value.startswith(PLAINTEXT_PREFIX)

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The token; a plaintext value from before encryption is returned as it is."""
        if self.is_plaintext(stored):
            return stored
        return self._guarded(lambda: self._fernet.decrypt(stored.encode("ascii")).decode())

    def seal(self, stored: str) -> str:
        """Encrypt a plaintext value; leave an encrypted one as it is."""
        return self.encrypt(stored) if self.is_plaintext(stored) else stored

    def rotate(self, stored: str) -> str:
        """Encrypted with the newest key, whatever it was stored with."""
        if self.is_plaintext(stored):
            return self.encrypt(stored)
        return self._guarded(lambda: self._fernet.rotate(stored.encode("ascii")).decode())

    @staticmethod
    def _guarded(work: Callable[[], str]) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return work()
        except (InvalidToken, UnicodeError):
            raise TokenKeyError(
                "a stored Slack token was encrypted with a key that is not in "
                "VOICEBOT_SECRET_KEY (or is damaged). Put the key it was encrypted with back "
                "in VOICEBOT_SECRET_KEY, after the newest (new,old), and run `voicebot "
                "secrets rotate`; if that key is lost, the workspace must reinstall voicebot."
            ) from None


class EncryptedInstallationStore(InstallationStore):
    """slack-sdk's installation store interface, with tokens encrypted in ``inner``."""

    def __init__(self, inner: InstallationStore, cipher: TokenCipher) -> None:
        self.inner = inner
        self.cipher = cipher

    @property
    def logger(self) -> logging.Logger:
        return self.inner.logger

    def _map(self, item: T, convert: Callable[[str], str]) -> T:
        out = copy.copy(item)
        for name in TOKEN_COLUMNS:
            value = getattr(out, name, None)
            if value:
                setattr(out, name, convert(value))
        return out

    def save(self, installation: Installation) -> None:
        # the inner store saves the bot row from this (already encrypted) installation too
        self.inner.save(self._map(installation, self.cipher.encrypt))

    def save_bot(self, bot: Bot) -> None:
        self.inner.save_bot(self._map(bot, self.cipher.encrypt))

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        bot = self.inner.find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                  is_enterprise_install=is_enterprise_install)
        return None if bot is None else self._map(bot, self.cipher.decrypt)

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                          user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        found = self.inner.find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                             user_id=user_id,
                                             is_enterprise_install=is_enterprise_install)
        return None if found is None else self._map(found, self.cipher.decrypt)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.inner.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                            user_id: str | None = None) -> None:
        self.inner.delete_installation(enterprise_id=enterprise_id, team_id=team_id,
                                       user_id=user_id)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.inner.delete_all(enterprise_id=enterprise_id, team_id=team_id)


def installation_store(settings: Settings, engine: Engine) -> EncryptedInstallationStore:
    """The OAuth installation store: the one place that builds it (Bolt's OAuth flow and
    authorization, token revocation and digest delivery all use this)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    settings.require_secret_key()
    assert settings.slack_client_id, "the installation store is for OAuth installs"
    inner = SQLAlchemyInstallationStore(settings.slack_client_id, engine,
                                        bots_table_name=BOTS_TABLE,
                                        installations_table_name=INSTALLATIONS_TABLE)
    return EncryptedInstallationStore(inner, TokenCipher(settings.secret_keys))


def encrypt_plaintext(engine: Engine, keys: Sequence[str]) -> TokenCount:
    """Encrypt every stored token that is still plaintext (stored before encryption)."""
    cipher = TokenCipher(keys)
    with engine.begin() as conn:
        return rewrite_tokens(conn, cipher.seal)


def rotate(engine: Engine, keys: Sequence[str]) -> TokenCount:
    """Re-encrypt every stored token with the newest key (the first of ``keys``)."""
    cipher = TokenCipher(keys)
    with engine.begin() as conn:
        return rewrite_tokens(conn, cipher.rotate)


def check_keys(engine: Engine, keys: Sequence[str]) -> int:
    """Raise :class:`TokenKeyError` unless every stored token decrypts; return the count."""
    cipher = TokenCipher(keys)
    with engine.connect() as conn:
        values = stored_tokens(conn)
    for value in values:
        cipher.decrypt(value)
    return len(values)


def plaintext_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return sum(TokenCipher.is_plaintext(v) for v in stored_tokens(conn))


def secure_stored_tokens(settings: Settings, engine: Engine) -> str | None:
    """At upgrade and start-up: encrypt plaintext tokens when a key is set and check that
    the keys open every stored token. Returns a line to tell the operator, or None."""
    if not settings.secret_keys:
        waiting = plaintext_count(engine)
        if waiting:
            return (f"{waiting} Slack token(s) are stored in plaintext; set "
                    f"VOICEBOT_SECRET_KEY ({NEW_KEY_HINT}) and run `voicebot secrets "
                    "encrypt`")
        return None
    done = encrypt_plaintext(engine, settings.secret_keys)
    check_keys(engine, settings.secret_keys)
    if done.changed:
        log.info("plaintext Slack tokens encrypted", extra={"tokens": done.changed})
        return f"encrypted {done.changed} plaintext Slack token(s)"
    return None
