"""Benchmarks. Each module has `run() -> str` returning a Markdown section; see bench/report.py."""
