"""Where the CPU of one ``reconciler plan`` goes, measured in-process with ``time.process_time``.

    python bench/breakdown.py --file senders.yaml --base-url http://127.0.0.1:PORT [--json]

Runs the same steps as ``reconciler plan``, one at a time: import the CLI's modules, parse the YAML,
validate it (pydantic), fetch the pages (HTTP and JSON decoding), build the live models, diff (build
the plan), render. Credentials come from the environment, as for the CLI. ``bench/run.py`` starts this
in its own process so that the emulator's CPU is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()

    steps: dict[str, float] = {}
    clock = time.process_time

    start = clock()
    import reconciler.cli  # noqa: F401  (what `python -m reconciler` imports before doing anything)
    from reconciler import config
    from reconciler.client import Credentials, SendersClient
    from reconciler.config import reader
    from reconciler.models import CHANNEL, DesiredState, LiveSender, SendersFile
    from reconciler.plan import build_plan
    from reconciler.render import render_text

    steps["start-up (imports)"] = clock() - start

    # Parse and validate as config.load_desired does (its happy path), one step at a time.
    path = Path(args.file)
    gc.disable()  # as the CLI does from loading the file to the end of planning (cli._long_lived)
    start = clock()
    data = reader.parse(reader.read_text(path)).data
    steps["parse (YAML)"] = clock() - start
    start = clock()
    model = SendersFile.model_validate(data)
    senders = config.merge_defaults(model)
    desired = DesiredState.model_construct(
        senders=tuple(senders), ignore=frozenset(model.ignore), safety=model.safety, sources=(str(path),)
    )
    steps["validate (pydantic)"] = clock() - start

    async def fetch() -> tuple[list[dict], float, float]:
        async with SendersClient(Credentials.from_env(), base_url=args.base_url) as api:
            items: list[dict] = []
            url: str | None = "/v2/Channels/Senders"
            params: dict | None = {"Channel": CHANNEL, "PageSize": api.page_size}
            t_http = 0.0
            while url:
                t = clock()
                _, body = await api._json("GET", url, params=params)
                t_http += clock() - t
                items.extend(body["senders"])
                url, params = body["meta"].get("next_page_url"), None
            t = clock()
            live = [LiveSender.model_validate(i) for i in items]
            return live, t_http, clock() - t

    start = clock()
    live, t_http, t_models = asyncio.run(fetch())
    total_fetch = clock() - start
    steps["fetch (HTTP + JSON decode)"] = t_http
    steps["live models (LiveSender)"] = t_models
    steps["event loop, client set-up"] = total_fetch - t_http - t_models

    start = clock()
    plan = build_plan(desired, live)
    steps["diff (build_plan)"] = clock() - start
    start = clock()
    out = render_text(plan)
    steps["render (text)"] = clock() - start

    total = sum(steps.values())
    if args.json:
        print(json.dumps({"steps": steps, "total": total, "senders": len(desired.senders), "actions": len(plan.actions),
                          "output_chars": len(out)}))
        return
    for name, seconds in steps.items():
        print(f"{name:<30} {seconds:7.3f} s  {100 * seconds / total:5.1f} %")
    print(f"{'total':<30} {total:7.3f} s")


if __name__ == "__main__":
    main()
