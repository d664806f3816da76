"""`python -m ops.account`: the WhatsApp account's standing (REDIS_URL): messaging tier and its
use, throughput, quality, account updates and the marketing pause.

    python -m ops.account status                  # everything, with recent history
    python -m ops.account set-tier TIER_10K       # what Meta shows in WhatsApp Manager
    python -m ops.account resume-marketing --by ana

Meta's webhooks keep the tier and quality current; `set-tier` is for a deployment that does not
receive them yet (or to correct one): the newest setting wins, whoever made it.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Sequence, TextIO

from connector.cloudapi.pacing import ThroughputPolicy
from connector.policy.quality import QualityRegister
from connector.policy.tier import TIER_LIMITS, MessagingTier
from core.redis_conn import get_redis

HISTORY = 10


def _when(at) -> str:
    return at.isoformat() if at else "?"


def status(redis, out: TextIO) -> None:
    tier, quality = MessagingTier(redis), QualityRegister(redis)
    usage = tier.usage()
    limit = "unlimited" if usage.limit is None else f"{usage.limit:,}"
    since = f" since {_when(usage.since)}" if usage.since else ""
    out.write(f"tier: {usage.tier} ({limit} unique contacts per moving 24 h), set by {usage.source}{since}\n")
    out.write(f"  used: {usage.used:,} in the last 24 h")
    out.write(f"; next slot frees at {_when(usage.next_free_at)}\n" if usage.next_free_at else "\n")
    out.write(f"throughput: {ThroughputPolicy.from_env().mps} messages per second (WHATSAPP_THROUGHPUT_MPS)\n")
    state = quality.current()
    if state.quality:
        rating = f", rating {state.quality.rating}" if state.quality.rating else ""
        out.write(f"quality: {state.quality.event}{rating} at {_when(state.quality.at)}\n")
    else:
        out.write("quality: no update received\n")
    if state.pause:
        out.write(f"marketing: PAUSED since {_when(state.pause.since)} ({state.pause.reason}); "
                  "a lead resumes it: python -m ops.account resume-marketing\n")
    else:
        resumed = f" (resumed by {state.resumed_by} at {_when(state.resumed_at)})" if state.resumed_by else ""
        out.write(f"marketing: sending{resumed}\n")
    if state.account:
        out.write(f"account: {state.account.event} at {_when(state.account.at)} {dict(state.account.details)}\n")
    history = quality.history(HISTORY)
    if history:
        out.write("quality history (newest first):\n")
    for record in history:
        who = f" by {record.by}" if record.by else ""
        note = "" if record.applied else "  [older than the state then: history only]"
        out.write(f"  {_when(record.at)}  {record.event}{who}{note}\n")
    for change in tier.history(HISTORY):
        note = "" if change.applied else "  [older than the tier then: history only]"
        out.write(f"  tier {change.name} via {change.source} at {_when(change.at)}{note}\n")


def main(argv: Sequence[str] | None = None, redis=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.account", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="tier, throughput, quality, account updates, marketing pause")
    tier = commands.add_parser("set-tier", help="record the messaging tier Meta shows")
    tier.add_argument("tier", choices=list(TIER_LIMITS), type=str.upper)
    resume = commands.add_parser("resume-marketing", help="lift the pause a quality drop caused")
    resume.add_argument("--by", help="who resumes it (default: the system user)")
    args = parser.parse_args(argv)
    redis = redis or get_redis()

    if args.command == "status":
        status(redis, sys.stdout)
    elif args.command == "set-tier":
        if MessagingTier(redis).set_tier(args.tier, source="cli"):
            print(f"tier set to {args.tier}")
        else:
            print(f"{args.tier} recorded in the history only: a newer setting stands", file=sys.stderr)
    elif QualityRegister(redis).resume_marketing(args.by or f"cli:{getpass.getuser()}"):
        print("marketing resumed; a later quality drop pauses it again")
    else:
        print("marketing was not paused", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
