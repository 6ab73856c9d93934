"""Structured logging: one line per event, with the event's fields as key=value or JSON."""

from __future__ import annotations

import json
import logging
import sys

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
            line += "\n" + self.formatException(record.exc_info)
        return line


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # type: ignore[no-untyped-def]
        pass


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    handler = _StderrHandler()
    handler.setFormatter(StructuredFormatter(as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("sentence_transformers", "transformers", "httpx", "urllib3", "faiss"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
