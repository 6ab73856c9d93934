"""Settings: the only module that reads the environment.

Everything voicebot can be told comes from environment variables, read once into a
frozen :class:`Settings` and validated with messages a person can act on.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///voicebot.db"
DEFAULT_CAPTURE_EMOJI = "loudspeaker"
NEW_KEY_HINT = ("generate one with `voicebot secrets new-key` (or: python -c \"from "
                "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\")")
PLACEHOLDERS = {"changeme", "change-me", "xoxb-your-token", "your-signing-secret", "secret", "todo"}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""


def disable_library_progress_bars() -> None:
    """Tell Hugging Face's libraries (model loading) to draw no progress bars: they read
    ``HF_HUB_DISABLE_PROGRESS_BARS`` when first imported."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL


def default_model_cache(env: Mapping[str, str] | None = None) -> str:
    """``$XDG_CACHE_HOME/voicebot`` or ``~/.cache/voicebot``: where the ONNX export lives."""
    env = os.environ if env is None else env
    base = (env.get("XDG_CACHE_HOME", "").strip()
            or str(Path(env.get("HOME", "").strip() or Path.home()) / ".cache"))
    return str(Path(base) / "voicebot")


@dataclass(frozen=True)
class Settings:
    """voicebot's configuration. Build it with :meth:`from_env`."""

    database_url: str = DEFAULT_DATABASE_URL
    embedding_model: str | None = None
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    #: Fernet keys that encrypt stored OAuth tokens, newest first (VOICEBOT_SECRET_KEY).
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    slack_api_url: str | None = None
    port: int = 3000
    capture_emoji: str = DEFAULT_CAPTURE_EMOJI
    search_workers: int = 2
    #: threads one search's scan of a team's vectors is split over (VOICEBOT_SCAN_THREADS);
    #: two measured faster than one at 100k both idle and on a busy machine (bench/PERF.md)
    scan_threads: int = 2
    listener_workers: int = 32
    log_level: str = "INFO"
    log_json: bool = False
    mask_personal_data: bool = True
    digest_scheduler: bool = True
    sync_seconds: float = 2.0
    torch_threads: int | None = None  # also ONNX Runtime's intra-op threads
    #: where the bundled model's ONNX export is kept (store.retrieval.onnx_model)
    model_cache: str = field(default_factory=lambda: default_model_cache())
    #: how the bundled model encodes /voice topics (VOICEBOT_TOPIC_PRECISION): "int8", its
    #: 8-bit topic graph (faster; retrieval as good, bench/QUALITY.md), or "fp32", the graph
    #: stored vectors come from
    topic_precision: str = "int8"
    digest_interval: float = 60.0
    on_uninstall: str = "keep"
    #: the HTTP proxy answers to response_urls go through (HTTPS_PROXY, else HTTP_PROXY, as
    #: slack_sdk reads them for its own clients); may carry credentials, so never shown
    proxy_url: str | None = field(default=None, repr=False)
    #: hosts reached directly, not through ``proxy_url`` (NO_PROXY: comma-separated names,
    #: domain suffixes, optional ``:port``, or ``*``)
    no_proxy: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raise :class:`ConfigError` on bad values."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        settings = cls(
            database_url=database_url_from_env(env),
            embedding_model=get("VOICEBOT_EMBEDDING_MODEL"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
            slack_api_url=get("SLACK_API_URL"),
            secret_keys=_keys(get("VOICEBOT_SECRET_KEY")),
            port=_int(env, "PORT", 3000, lo=1, hi=65535),
            capture_emoji=(get("VOICEBOT_CAPTURE_EMOJI") or DEFAULT_CAPTURE_EMOJI).strip(":"),
            search_workers=_int(env, "VOICEBOT_SEARCH_WORKERS", 2, lo=1, hi=64),
            scan_threads=_int(env, "VOICEBOT_SCAN_THREADS", 2, lo=1, hi=64),
            listener_workers=_int(env, "VOICEBOT_LISTENER_WORKERS", 32, lo=1, hi=512),
            log_level=(get("VOICEBOT_LOG_LEVEL") or "INFO").upper(),
            log_json=_bool(env, "VOICEBOT_LOG_JSON", False),
            mask_personal_data=_bool(env, "VOICEBOT_MASK_PERSONAL_DATA", True),
            digest_scheduler=_bool(env, "VOICEBOT_DIGEST_SCHEDULER", True),
            sync_seconds=float(_int(env, "VOICEBOT_SYNC_SECONDS", 2, lo=1, hi=3600)),
            torch_threads=_int(env, "VOICEBOT_TORCH_THREADS", 0, lo=0, hi=64) or None,
            model_cache=get("VOICEBOT_MODEL_CACHE") or default_model_cache(env),
            topic_precision=(get("VOICEBOT_TOPIC_PRECISION") or "int8").lower(),
            digest_interval=float(_int(env, "VOICEBOT_DIGEST_INTERVAL", 60, lo=1, hi=86400)),
            on_uninstall=(get("VOICEBOT_ON_UNINSTALL") or "keep").lower(),
            proxy_url=(get("HTTPS_PROXY") or get("https_proxy") or get("HTTP_PROXY")
                       or get("http_proxy")),
            no_proxy=get("NO_PROXY") or get("no_proxy"),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Checks that need no network: shapes of tokens, model paths, emoji names."""
        if self.embedding_model and _looks_like_path(self.embedding_model) and \
                not Path(self.embedding_model).expanduser().exists():
            raise ConfigError(
                f"VOICEBOT_EMBEDDING_MODEL points to {self.embedding_model!r}, which does "
                "not exist. Give the folder of a sentence-transformers model on this disk, "
                "or unset it to use the bundled all-MiniLM-L6-v2."
            )
        _check_token("SLACK_BOT_TOKEN", self.slack_bot_token, "xoxb-")
        _check_token("SLACK_APP_TOKEN", self.slack_app_token, "xapp-")
        if self.slack_signing_secret and self.slack_signing_secret.lower() in PLACEHOLDERS:
            raise ConfigError("SLACK_SIGNING_SECRET is a placeholder; copy the real one from "
                              "your app's Basic Information page.")
        if not re.fullmatch(r"[a-z0-9_+'\-]{1,100}", self.capture_emoji):
            raise ConfigError(f"VOICEBOT_CAPTURE_EMOJI {self.capture_emoji!r} is not an emoji "
                              "name (like loudspeaker, without colons).")
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError("VOICEBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR.")
        if self.topic_precision not in {"int8", "fp32"}:
            raise ConfigError("VOICEBOT_TOPIC_PRECISION must be `int8` (the bundled model's "
                              "8-bit topic graph, the default) or `fp32` (the full graph).")
        if self.on_uninstall not in {"keep", "delete"}:
            raise ConfigError("VOICEBOT_ON_UNINSTALL must be `keep` (quotes stay, e.g. for a "
                              "reinstall) or `delete` (a workspace's quotes are erased when "
                              "it uninstalls voicebot).")
        for n, key in enumerate(self.secret_keys, start=1):
            if not _is_fernet_key(key):
                where = f"key {n} of VOICEBOT_SECRET_KEY" if len(self.secret_keys) > 1 \
                    else "VOICEBOT_SECRET_KEY"
                raise ConfigError(f"{where} is not a Fernet key (44 characters of url-safe "
                                  f"base64); {NEW_KEY_HINT}.")
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            raise ConfigError("Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth "
                              "installs, or neither.")

    def validate_for_serving(self) -> None:
        """What ``voicebot serve`` needs on top of :meth:`validate`."""
        oauth = bool(self.slack_client_id)
        if not self.slack_bot_token and not oauth:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set. Install the app to your workspace (see README, "
                "'Connect to Slack') and export its Bot User OAuth Token (xoxb-...)."
            )
        if self.slack_app_token is None and not self.slack_signing_secret:
            raise ConfigError(
                "Set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)."
            )
        if oauth and not self.slack_signing_secret:
            raise ConfigError("OAuth installs (SLACK_CLIENT_ID) need SLACK_SIGNING_SECRET.")
        if oauth:
            self.require_secret_key()

    def require_secret_key(self) -> None:
        """OAuth installs store each workspace's tokens, encrypted with VOICEBOT_SECRET_KEY."""
        if not self.secret_keys:
            raise ConfigError(
                "VOICEBOT_SECRET_KEY is not set. OAuth installs (SLACK_CLIENT_ID) store each "
                "workspace's Slack tokens encrypted with it; " + NEW_KEY_HINT + ", export it "
                "as VOICEBOT_SECRET_KEY and keep it safe: without it the stored tokens are "
                "unreadable and every workspace must reinstall.")

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def web_api_base_url(self) -> str | None:
        """SLACK_API_URL normalised to slack_sdk's form (ends with a slash)."""
        if not self.slack_api_url:
            return None
        return self.slack_api_url.rstrip("/") + "/"


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", ".", "~"))


def _check_token(name: str, value: str | None, prefix: str) -> None:
    if value is None:
        return
    if value.lower() in PLACEHOLDERS or not value.startswith(prefix):
        raise ConfigError(f"{name} should start with {prefix!r}; got {value[:6]!r}...")


def _keys(raw: str | None) -> tuple[str, ...]:
    """``new,old``: comma-separated keys, the first encrypts, all of them decrypt."""
    return tuple(k.strip() for k in (raw or "").split(",") if k.strip())


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def _int(env: Mapping[str, str], name: str, default: int, *, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}.")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}.")
