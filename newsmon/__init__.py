"""newsmon: scheduled monitoring of regional Chinese news.

Its top-level modules and ``newsmon.digest`` are the pure core (values, config, text
normalisation, queries, digests) that every other layer builds on: storage, the
crawler, delivery, the use-cases in ``newsmon.app``, and the shells (``newsmon.cli``,
the scheduler service, the sample sites). README, "How it is built", has the rules.
"""

__version__ = "0.1.0"
