"""The emulator's own time to answer a list page of 1,000 senders (no latency, no network).

    python bench/emulator_pages.py [--senders 10000] [--page-size 1000] [--walks 5]

Seeds an emulator with ``bench/workload.py``'s senders, starts it (and stops it: only its address
matters), and calls the list handler directly for every
page of a walk from first to last page, ``--walks`` times. The first walk is reported on its own
(every sender read once since seeding); the later ones give the median per page. A final walk follows
an update of 10 % of the senders, as the confirming read after an apply does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import make_mocked_request

from bench.workload import changed_indexes, sender_body
from reconciler.emulator import EmulatorServer

LIST = "/v2/Channels/Senders"


async def walk(server: EmulatorServer, page_size: int) -> tuple[list[float], int]:
    """Seconds per page of one walk, and the bytes sent."""
    times, size, url = [], 0, f"{LIST}?Channel=whatsapp&PageSize={page_size}"
    while url:
        request = make_mocked_request("GET", url)
        start = time.perf_counter()
        response = await server._list(request)
        times.append(time.perf_counter() - start)
        size += len(response.body)
        url = json.loads(response.body)["meta"]["next_page_url"]
        if url:
            url = url[url.index(LIST):]
    return times, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--walks", type=int, default=5)
    args = parser.parse_args()
    server = EmulatorServer()
    start = time.perf_counter()
    sids = [server.add_sender(sender_body(i))["sid"] for i in range(args.senders)]
    seeding = time.perf_counter() - start
    server.start()  # after seeding, as bench/run.py does: the senders' URLs change to the bound address
    server.stop()
    first, size = await walk(server, args.page_size)
    later = [t for _ in range(args.walks - 1) for t in (await walk(server, args.page_size))[0]]
    store = server._store
    for i in changed_indexes(args.senders):
        store.update(sids[i], {"profile": {"about": f"changed {i}"}})
    after_updates, _ = await walk(server, args.page_size)
    ms = 1000
    print(f"{args.senders:,} senders seeded in {seeding:.2f} s; a walk is {len(first)} pages, {size / 1e6:.1f} MB")
    print(f"first walk:            {statistics.median(first) * ms:6.1f} ms per page (median), "
          f"{sum(first) * ms:7.1f} ms in all")
    if later:
        print(f"later walks:           {statistics.median(later) * ms:6.1f} ms per page (median), "
              f"min {min(later) * ms:.1f}, max {max(later) * ms:.1f}")
    print(f"after 10 % updated:    {statistics.median(after_updates) * ms:6.1f} ms per page (median), "
          f"{sum(after_updates) * ms:7.1f} ms in all")


if __name__ == "__main__":
    asyncio.run(main())
