"""The Celery application both sides share, with every delivery setting chosen.

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only
  when its job has ended, so a worker that dies mid-job (SIGKILL, machine gone) leaves
  it unacknowledged and the broker hands it to another worker (RabbitMQ as soon as the
  dead worker's connection drops; Redis after ``visibility_timeout``);
* ``worker_prefetch_multiplier = 1``: a worker holds only the messages it has slots
  for, so a queued crawl goes to the next free worker, not behind a busy one's jobs;
* ``worker_cancel_long_running_tasks_on_connection_loss``: a worker cut off from the
  broker gives its running jobs up (their messages are redelivered anyway);
* JSON only, no results stored: the job ledger in the database is the record;
* the threads pool: each job already runs in its own child process (the local
  executor's code), so a pool slot only waits for it; and when the worker is killed,
  its threads go with it and the children die with them (parent-death signal).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Celery
from kombu import Queue

from newsmon.scheduler.cluster.messages import TASK_NAME, all_queue_names

# Redis re-delivers a message not acknowledged within this long; it must exceed the
# longest job, or a crawl still running would be started a second time (the job lease
# would hold that second copy back until the first ends, then run it again).
REDIS_VISIBILITY = timedelta(hours=2)


def make_app(broker_url: str, queue_prefix: str) -> Celery:
    app = Celery("newsmon", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_queues=[Queue(name, durable=True) for name in all_queue_names(queue_prefix)],
        task_create_missing_queues=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": int(REDIS_VISIBILITY.total_seconds()),
            # Sending gives up fast when the broker is down: the runner logs it and
            # owes the job (scheduler/cluster/dispatch.py), it does not block.
            "max_retries": 0,
        },
        broker_connection_timeout=3,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
    )
    return app


def register_job_task(app: Celery, run: Callable[[Any, dict[str, Any]], str],
                      expected: tuple[type[Exception], ...]) -> None:
    """The ``newsmon.run_job`` task, calling ``run(task, message)``. ``expected``
    exceptions are a job's failure with a reason (logged in one line, no traceback)."""

    def run_job(self: Any, message: dict[str, Any]) -> str:
        return run(self, message)

    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=None, throws=expected)(run_job)
