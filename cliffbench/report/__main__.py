"""``python -m cliffbench.report PATH``: same as ``cliffbench-report PATH``."""

from cliffbench.report.cli import main

if __name__ == "__main__":
    main()
