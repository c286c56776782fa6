"""The application layer: end-to-end workflows built from the core and the adapters.

- :mod:`pmrtrial.demo.pipeline`: the analyse pipeline (read datasets -> validate -> analyse -> write the report),
  behind ``pmrtrial analyse``;
- :mod:`pmrtrial.demo.run`: ``pmrtrial demo [--protocol bachelor|semaphore|saphyr]`` (protocol, screening of the
  example candidates, the synthetic twin through the EDC, the analysis and its report);
- :mod:`pmrtrial.demo.twins`: which twin, seed and optional tables each demo protocol uses;
- :mod:`pmrtrial.demo.edc` / :mod:`pmrtrial.demo.edc_runner` / :mod:`pmrtrial.demo.edc_seed`: the EDC part of the
  demo, run in a child process configured for the demo's own SQLite database.

Nothing in the core or the adapters imports this package (``tests/test_architecture.py``). Submodules are imported
explicitly; this ``__init__`` imports nothing, so importing one workflow does not load the others.
"""
