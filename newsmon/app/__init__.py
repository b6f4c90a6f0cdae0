"""The application layer: newsmon's use-cases as plain functions.

Each use-case (crawl and match, run a digest, search, add a topic …) is written once
here, over the core, storage, the crawler and delivery, and every shell calls it: the
CLI, the scheduler service, the web view and the workers. A shell parses its input and
presents the result; it does not repeat the rule in between.
"""
