"""Library DeprecationWarnings off in our entry points: pages of them at every start, none of them
something a user of this project can act on.

PYTHONWARNINGS (set by the launcher) is not enough: importing Sanic, which Rasa and rasa_sdk
do, puts a "once" filter for DeprecationWarning in front of it. So Sanic is imported first and
the ignore filters go in front of its filter.
"""
from __future__ import annotations

import warnings


def library_deprecations_off() -> None:
    import sanic  # noqa: F401  (must run before the filters below, see the module docstring)

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
