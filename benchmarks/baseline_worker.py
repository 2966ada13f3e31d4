"""The baseline's worker, arranged like Tempodesk's (tempodesk/app/worker.py).

Same sandbox runner, same activity thread pool size, same local-activity concurrency; only the
task queue, the workflow and the (no-op) activities differ. Runs in a thread of the benchmark
or as its own process: ``python -m benchmarks.baseline_worker --address 127.0.0.1:7233``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.baseline import BASELINE_TASK_QUEUE, BaselineWorkflow, noop
from tempodesk.app.worker import SANDBOX

log = logging.getLogger(__name__)


async def run_baseline_worker(
    address: str, namespace: str = "default", *, stop: asyncio.Event | None = None
) -> None:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; then finish in-flight tasks."""
    client = await Client.connect(address, namespace=namespace)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not main thread
            loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=24, thread_name_prefix="activity") as executor:
        worker = Worker(
            client,
            task_queue=BASELINE_TASK_QUEUE,
            workflows=[BaselineWorkflow],
            activities=[noop],
            activity_executor=executor,
            workflow_runner=SANDBOX,
            max_concurrent_local_activities=16,
        )
        task = asyncio.create_task(worker.run())
        log.info("baseline worker polling %s", BASELINE_TASK_QUEUE)
        await stop.wait()
        await worker.shutdown()
        await asyncio.gather(task, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True, help="host:port of Temporal's frontend")
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run_baseline_worker(args.address, args.namespace))


if __name__ == "__main__":
    main()
