"""Requests per second the emulator serves to 64 concurrent keep-alive connections.

    python bench/emulator_throughput.py [--seconds 5] [--connections 64] [--client-processes 2]
                                        [--in-process] [--shared-client]

The emulator runs in a child process and httpx.AsyncClient clients in ``--client-processes``
others (default 2), because one Python process running httpx saturates its core at about 1,200
requests/s, below what the emulator serves; ``--in-process`` runs server and client together.
The mix is small requests as the reconciler sends them: 80% fetches, 10% list pages, 10% updates.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from reconciler.emulator import EmulatorServer

ACCOUNT, TOKEN = "AC" + "0" * 32, "bench-token"
SENDERS = "/v2/Channels/Senders"


def seed(server: EmulatorServer, n: int) -> list[str]:
    return [
        server.add_sender({"sender_id": f"whatsapp:+1500555{i:04d}", "profile": {"name": f"Bench {i}"}})["sid"]
        for i in range(n)
    ]


def serve(queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    server = EmulatorServer(account_sid=ACCOUNT, auth_token=TOKEN)
    sids = seed(server, 100)
    queue.put((server.start(), sids))
    cpu = time.process_time()
    stop.wait()
    cpu = time.process_time() - cpu
    queue.put((server.stats()["total"], cpu))
    server.stop()


async def hammer(
    base_url: str, sids: list[str], connections: int, seconds: float, shared: bool = False
) -> tuple[int, int, float]:
    """Run ``connections`` workers for ``seconds``; return (requests, errors, seconds measured).

    Each worker has its own keep-alive connection (its own ``httpx.AsyncClient``): httpcore's pool
    slows down sharply when 64 requests queue on one client, and that would measure httpx, not the
    emulator. ``shared=True`` measures one client with a 64-connection pool instead.
    """

    def make_client(n: int) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        return httpx.AsyncClient(base_url=base_url, auth=(ACCOUNT, TOKEN), limits=limits)

    async def worker(k: int, client: httpx.AsyncClient) -> None:
        nonlocal done, errors
        i = k
        while time.perf_counter() < deadline:
            sid = sids[i % len(sids)]
            if i % 10 == 0:
                r = await client.get(SENDERS, params={"Channel": "whatsapp", "PageSize": 20})
            elif i % 10 == 1:
                r = await client.post(f"{SENDERS}/{sid}", json={"profile": {"about": f"x{i}"}})
            else:
                r = await client.get(f"{SENDERS}/{sid}")
            done += 1
            errors += r.status_code >= 400
            i += connections

    # Clients first (each builds an SSL context: slow), then the clock starts.
    clients = [make_client(connections)] if shared else [make_client(1) for _ in range(connections)]
    done = errors = 0
    start = time.perf_counter()
    deadline = start + seconds
    try:
        await asyncio.gather(*(worker(k, clients[0 if shared else k]) for k in range(connections)))
        elapsed = time.perf_counter() - start
    finally:
        for client in clients:
            await client.aclose()
    return done, errors, elapsed


def client_process(args: tuple[str, list[str], int, float, bool]) -> tuple[int, int, float]:
    base_url, sids, connections, seconds, shared = args
    asyncio.run(hammer(base_url, sids, connections, 0.3, shared))  # warm up
    return asyncio.run(hammer(base_url, sids, connections, seconds, shared))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--client-processes", type=int, default=2, help="split the connections over N processes")
    parser.add_argument("--shared-client", action="store_true", help="one AsyncClient with a 64-connection pool")
    args = parser.parse_args()

    child = None
    if args.in_process:
        server = EmulatorServer(account_sid=ACCOUNT, auth_token=TOKEN)
        sids = seed(server, 100)
        base_url = server.start()
    else:
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        stop = multiprocessing.Event()
        child = multiprocessing.Process(target=serve, args=(queue, stop), daemon=True)
        child.start()
        base_url, sids = queue.get(timeout=30)
    try:
        per = args.connections // args.client_processes
        jobs = [(base_url, sids, per, args.seconds, args.shared_client)] * args.client_processes
        if args.client_processes == 1:
            results = [client_process(jobs[0])]
        else:
            with multiprocessing.Pool(args.client_processes) as pool:
                results = pool.map(client_process, jobs)
    finally:
        served = None
        if child is not None:
            stop.set()
            served = queue.get(timeout=30)
            child.join(timeout=10)
        else:
            server.stop()
    where = "this process" if args.in_process else "a separate process"
    clients = "one shared client" if args.shared_client else "one client per connection"
    done, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    rate = sum(r[0] / r[2] for r in results)
    print(
        f"{rate:,.0f} requests/s ({done} requests, {errors} errors, {args.connections} keep-alive connections, "
        f"{clients}, {args.client_processes} client process(es), {args.seconds:.0f} s, server in {where})"
    )
    if served:
        # On a shared machine the rate depends on the neighbours; the server's CPU cost per request does not.
        total, cpu = served
        print(
            f"server CPU: {cpu / total * 1e6:.0f} us per request, i.e. about {total / cpu:,.0f} requests "
            f"per CPU-second ({total} requests, warm-up included)"
        )


if __name__ == "__main__":
    main()
