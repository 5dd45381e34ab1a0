"""Many open console streams in one process, for :mod:`benchmarks.bench_live_fanout`.

``python -m benchmarks.live_clients PORT PATH COUNT``: opens COUNT streams of
``GET PATH`` (plain asyncio sockets, the least a client can cost), prints
``ready`` once every stream has had its ``ready`` event, then notes when each
stream receives each ``evidence`` event (``time.time()``, by the event's ``id``).
A line ``report`` on stdin makes it print ``{"<id>": [times...], ...}`` as one
JSON line and exit; streams that ended early are counted in ``"closed"``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import defaultdict


async def _stream(
    port: int, path: str, ready: asyncio.Event, counter: list[int], total: int,
    seen: dict[str, list[float]], closed: list[int],
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    kind = ""
    try:
        while line := await reader.readline():
            # Chunk sizes and blank lines interleave with the event lines; only these matter.
            if line.startswith(b"event: "):
                kind = line[7:].strip().decode()
            elif line.startswith(b"data: "):
                if kind == "ready":
                    counter[0] += 1
                    if counter[0] == total:
                        ready.set()
                elif kind == "evidence":
                    event_id = json.loads(line[6:])["id"]
                    seen[event_id].append(time.time())
    finally:
        closed[0] += 1
        writer.close()


async def main(port: int, path: str, count: int) -> None:
    ready = asyncio.Event()
    seen: dict[str, list[float]] = defaultdict(list)
    counter, closed = [0], [0]
    tasks = []
    for index in range(count):
        tasks.append(
            asyncio.ensure_future(_stream(port, path, ready, counter, count, seen, closed))
        )
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # a crowd arriving, not one burst of SYNs
    await asyncio.wait_for(ready.wait(), 120)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    print(json.dumps({"events": seen, "closed": closed[0]}), flush=True)
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
