"""`python -m ops.rasa_server run ...`: Rasa's own CLI, with its API token taken from RASA_TOKEN.

`rasa run --auth-token=…` puts the token in the process's argv, which every local user can read
(/proc/PID/cmdline, ps). The kernel keeps the argv this process was exec'd with; the token is
added to sys.argv only here, inside the process, before Rasa parses it.
"""
from __future__ import annotations

import logging
import os
import sys

from core.quiet import library_deprecations_off

TOKEN_ENV = "RASA_TOKEN"


def main() -> None:
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set; Rasa's HTTP API must not run without a token.")
    # "=" form: a random token may start with "-", which argparse would take for an option.
    sys.argv = ["rasa", *sys.argv[1:], f"--auth-token={token}"]
    library_deprecations_off()
    # One INFO line per Cloud API request; the sender logs the failures that matter itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from rasa.__main__ import main as rasa_main

    from ops.rasa_tuning import validate_action_results_once_checked

    validate_action_results_once_checked()
    rasa_main()


if __name__ == "__main__":
    main()
