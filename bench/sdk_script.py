"""The baseline: how accounts are scripted today, with Twilio's official ``twilio`` package, one request at a time.

    python bench/sdk_script.py --file senders.yaml --base-url http://127.0.0.1:PORT [--page-size N] [--read-only]

Lists every WhatsApp sender with ``channels_senders.stream(...)``, compares the profile, webhook and
configuration fields the file sets with the live ones, and updates each sender that differs with
``channels_senders(sid).update(...)``, waiting for each response before sending the next request.
Credentials come from ``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN``.

``--page-size`` 0 sends no ``PageSize``, as ``stream(channel="whatsapp")`` does by default (the API then
uses its default page, 20 senders for WhatsApp); the benchmark passes 1000, the API's maximum, so the
comparison is about the writes, not about paging.
"""

from __future__ import annotations

import argparse
import os
import sys

from ruamel.yaml import YAML
from twilio.rest import Client
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

SECTIONS = ("configuration", "webhook", "profile")
LABELLED = {"websites": ("website", "Website"), "emails": ("email", "Email")}


def comparable(name: str, value: object) -> object:
    """Plain strings in ``websites``/``emails`` mean the default label, as the API stores them."""
    if name in LABELLED and isinstance(value, list):
        key, label = LABELLED[name]
        return [{key: v, "label": label} if isinstance(v, str) else v for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--page-size", type=int, default=1000, help="0: the SDK's default (no PageSize sent)")
    parser.add_argument("--read-only", action="store_true", help="list and compare, update nothing")
    args = parser.parse_args()

    with open(args.file, encoding="utf-8") as fh:
        desired = {s["sender_id"]: s for s in YAML(typ="safe").load(fh)["senders"]}

    client = Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
    client.messaging.base_url = args.base_url
    senders = client.messaging.v2.channels_senders

    listed = updated = 0
    todo = []
    for live in senders.stream(channel="whatsapp", page_size=args.page_size or None):
        listed += 1
        want = desired.get(live.sender_id)
        if want is None:
            continue
        body = {}
        for section in SECTIONS:
            have = getattr(live, section) or {}
            changed = {k: v for k, v in (want.get(section) or {}).items() if comparable(k, v) != have.get(k)}
            if changed:
                body[section] = changed
        if body:
            todo.append((live.sid, body))
    if not args.read_only:
        for sid, body in todo:
            senders(sid).update(ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate(body))
            updated += 1
    print(f"listed {listed} senders, {len(todo)} differ, updated {updated}")
    sys.exit(0)


if __name__ == "__main__":
    main()
