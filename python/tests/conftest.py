# ===- tests/conftest.py - pytest setup for the Python tests ----------=== #
"""Shared pytest setup for the tests under python/tests.

Puts the `python/` folder on `sys.path`, so `import rill` works from a plain
checkout without installing the package.
"""

import pathlib
import sys

PYTHON_ROOT = pathlib.Path(__file__).resolve().parent.parent

if str(PYTHON_ROOT) not in sys.path:
    sys.path.insert(0, str(PYTHON_ROOT))
