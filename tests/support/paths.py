"""Where the project and its tools are, for every test module and helper."""

from __future__ import annotations

import sys
from pathlib import Path

#: The project folder.
ROOT = Path(__file__).resolve().parents[2]
#: The virtualenv's scripts (``ape``, ``telcochain``) next to the running Python.
BIN = Path(sys.executable).parent
