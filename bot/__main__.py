"""``python -m bot`` and the ``voicebot`` console script."""

import sys

from bot.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
