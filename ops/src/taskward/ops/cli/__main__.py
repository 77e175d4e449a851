"""``python -m taskward.ops.cli``: the same as the ``taskward`` command."""

from taskward.ops.cli import main

if __name__ == "__main__":
    main()
