"""``python -m launderbench`` runs the command line, as the ``launderbench`` script does."""

from launderbench.benchmarks.cli import main

if __name__ == "__main__":
    main()
