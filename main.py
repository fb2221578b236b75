"""Launch CNN Studio's window (see gui/app.py)."""

import sys

from gui.app import main

if __name__ == "__main__":
    sys.exit(main())
