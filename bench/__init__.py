"""Benchmarks. Each module has `main()` that measures, prints and writes its section of
docs/benchmarks.md."""
