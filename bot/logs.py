"""Structured logging: one line per event, with the event's fields as key=value or JSON.

Every record passes :class:`Redact` on its way out, whichever logger made it and at any
level: Slack tokens are masked, and the request and response bodies that slack-sdk and
slack-bolt log at DEBUG (message text, blocks, hence quote text; OAuth responses, hence
tokens) are left out, as are SQL parameters in database errors (a failed insert would carry
the quote's words).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import TextIO
from urllib.parse import urlsplit

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class StructuredFormatter(logging.Formatter):
    """``time level logger message key=value ...``, or one JSON object per line."""

    def __init__(self, as_json: bool = False) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        message = record.getMessage()
        if self.as_json:
            data = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                    "level": record.levelname, "logger": record.name, "message": message,
                    **fields}
            if record.exc_info:
                data["exception"] = self.formatException(record.exc_info)
            return json.dumps(data, default=str, ensure_ascii=False)
        extra = " ".join(f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}"
                         for k, v in fields.items())
        line = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname:<7} " \
               f"{record.name}: {message}" + (f" {extra}" if extra else "")
        if record.exc_info:
            line += "\n" + (record.exc_text or self.formatException(record.exc_info))
        return line


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


#: Slack tokens: bot, user, app-level, configuration, refresh (xoxe-) and rotating
#: (xoxe.xoxb-) ones.
_TOKEN = re.compile(r"\b(xox[abposre](?:\.xox[abposre])?-|xapp-)[A-Za-z0-9._-]+")
_SENDING = re.compile(r"(Sending a (?:request|message|\w+ data frame)) - url: (\S+?),.*", re.S)
_RECEIVED = re.compile(r"(Received the following response) - status: (\d+),(.*)", re.S)
_RESPONDING = re.compile(r'Responding with status: (\d+) body: "(.*)" \((\d+) millis\)', re.S)
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_ERROR_CODE = re.compile(r"""["']error["']:\s*["']([\w.:-]{1,64})["']""")
_SLACK_LOGGERS = ("slack_sdk", "slack_bolt")


def redact(text: str) -> str:
    """``text`` with Slack tokens masked and SQL parameters left out."""
    return _SQL_PARAMETERS.sub("[parameters: not logged]",
                               _TOKEN.sub(lambda m: m.group(1) + "[redacted]", text))


def _url(url: str) -> str:
    """Web API method URLs stay; a response_url (a capability) keeps only its host."""
    parts = urlsplit(url)
    path = parts.path if "/api/" in parts.path else "/..."
    return f"{parts.scheme}://{parts.netloc}{path}"


def _without_payloads(text: str) -> str:
    """Every ``{...}`` (a dict or JSON body) replaced by ``{...}`` with nothing inside."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            if depth == 0:
                out.append("{...}")
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def slack_library_message(message: str) -> str:
    """What slack-sdk/slack-bolt log, without the bodies of requests and responses."""
    if m := _SENDING.fullmatch(message):
        return f"{m.group(1)} - url: {_url(m.group(2))} (parameters and body not logged)"
    if m := _RECEIVED.fullmatch(message):
        error = _ERROR_CODE.search(m.group(3))
        return f"{m.group(1)} - status: {m.group(2)} (body not logged)" + \
            (f" error={error.group(1)}" if error else "")
    if m := _RESPONDING.fullmatch(message):
        return (f"Responding with status: {m.group(1)} body: ({len(m.group(2))} characters, "
                f"not logged) ({m.group(3)} millis)")
    return _without_payloads(message)


class Redact(logging.Filter):
    """Keeps tokens and quote text out of every record (a handler filter, so it sees the
    records of every logger, voicebot's and the libraries')."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string; logging reports it itself
            return True
        if record.name.startswith(_SLACK_LOGGERS):
            message = slack_library_message(message)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


_progress = {"bars": True}
#: Libraries' INFO lines nobody reading a start needs: alembic's "setup plugin ..." and
#: "Context impl ...", slack-sdk's per-connection Socket Mode chatter.
_QUIET_AT_INFO = ("alembic", "slack_sdk.socket_mode", "slack_bolt.adapter.socket_mode")


def progress_bars() -> bool:
    """Whether progress bars may be drawn: on a terminal, and not with JSON logs."""
    return _progress["bars"]


def set_progress_bars(enabled: bool) -> None:
    """Turn voicebot's and the model libraries' (Hugging Face, transformers) bars on/off."""
    from bot.config import disable_library_progress_bars

    _progress["bars"] = enabled
    if enabled:
        return
    disable_library_progress_bars()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Log to stderr through :class:`Redact`; progress bars only on a terminal and never
    among JSON lines."""
    set_progress_bars(not as_json and sys.stderr.isatty())
    handler = _StderrHandler()
    handler.setFormatter(StructuredFormatter(as_json))
    handler.addFilter(Redact())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("sentence_transformers", "transformers", "httpx", "urllib3", "faiss",
                  *_QUIET_AT_INFO):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
