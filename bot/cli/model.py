"""``voicebot model prepare``: make the bundled model's ONNX export ahead of first use."""

from __future__ import annotations

import argparse

from bot.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's verbs to the ``voicebot`` parser."""
    p = sub.add_parser("model", help="prepare the bundled model for serving",
                       description="prepare: export the bundled all-MiniLM-L6-v2 to ONNX "
                       "(once; serve, search, import and demo then run it with ONNX Runtime, "
                       "without torch) into VOICEBOT_MODEL_CACHE, and check it. Done "
                       "automatically on first use; the Docker image runs it at build time. "
                       "A custom VOICEBOT_EMBEDDING_MODEL runs on sentence-transformers and "
                       "needs no preparing.")
    p.add_argument("action", choices=["prepare"], help="prepare: export and check")
    p.add_argument("--force", action="store_true", help="export again even if it is there")
    p.set_defaults(func=cmd_model)


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    from bot.container import prepare_model

    if settings.embedding_model is not None:
        print(f"VOICEBOT_EMBEDDING_MODEL is set ({settings.embedding_model}): it runs on "
              "sentence-transformers; nothing to prepare")
        return 0
    prepared = prepare_model(settings, force=args.force, say=print)
    print(f"ready: {prepared.model_file} (sha256 {prepared.manifest['sha256'][:16]}..., "
          f"{prepared.manifest['bytes'] / 2**20:.0f} MiB, "
          f"emotion layer {prepared.manifest['tap_layer']}); topics: {prepared.topic_file} "
          f"(8-bit weights)")
    return 0
