"""``python -m telcochain.cli``: the same ``telcochain`` command as the installed entry point."""

from telcochain.cli.root import main

if __name__ == "__main__":  # pragma: no cover
    main()
