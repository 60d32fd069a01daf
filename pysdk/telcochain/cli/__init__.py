"""``telcochain``: the command line for operations staff, one module per command group.

- :mod:`telcochain.cli.options`: what every command shares (the :class:`~telcochain.cli.options.Group`
  class that prints errors in one line, ``--rpc-url``/``--account``/``--json``/``--ref`` and the
  :class:`~telcochain.cli.options.CliSession` a command receives);
- one module per command group (``members``, ``governance``, ``assets``, ``orders``,
  ``agreement``, ``node``, ...): plain click groups and commands that import
  :mod:`~telcochain.cli.options` and the SDK, never the root group;
- :mod:`telcochain.cli.root`: the ``telcochain`` group, which adds every group explicitly
  (``main.add_command``). Nothing registers itself by being imported.

The entry point is ``telcochain.cli:main`` (also ``python -m telcochain.cli``).
"""

from telcochain.cli.root import main

__all__ = ["main"]
