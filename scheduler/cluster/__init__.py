"""The Celery executor: ``newsmon run`` sends due jobs to a broker, ``newsmon worker``
processes on any number of machines run them against one shared database.

* :mod:`.messages` — what a job message holds (plain JSON), and the queue names;
* :mod:`.app` — the Celery application: acks_late, one message per worker slot,
  the ``newsmon.run_job`` task;
* :mod:`.dispatch` — the runner side: sends each due job instead of spawning it, and
  keeps owing a job the broker would not take until it is back;
* :mod:`.worker` — the worker side: leases (one run per job and one crawl per host at
  a time in the cluster), then the local executor's own :class:`~scheduler.jobs.
  JobRunner` runs the job in a child process and records it.

Only this package imports Celery or kombu (``tests/test_layers.py``).
"""
