"""Helpers for the contract tests (tests/contracts), importable as ``tests.support.<module>``.

- :mod:`~tests.support.encoding`: ids, refs, action policies, grants and the built-in actions' params;
- :mod:`~tests.support.events`: receipt events and the strict ``reverts_with`` of ape transactions;
- :mod:`~tests.support.dryrun`: custom-error checks by ``eth_call`` (the module packages);
- :mod:`~tests.support.ape_speed`: ape's per-call costs these tests do not need, patched;
- :mod:`~tests.support.worlds`: test deployments made like a real one — a consortium description
  (``tests/support/worlds/*.yaml``) deployed through scripts/deploy.py's own ``deploy_contracts``
  and ``genesis``;
- one module per package of tests/contracts (:mod:`~tests.support.assets`, ``agreement``,
  ``orders``, ``visibility``, ``invariants``): its world, its encoders and its shortcuts.

The conftest files keep only fixtures.
"""
