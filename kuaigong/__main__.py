"""`python -m kuaigong …` runs the `kuaigong` command (the demo starts its processes this way)."""

from kuaigong.cli import main

main()
