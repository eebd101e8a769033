"""Accounts: what an account is, where its credentials come from, how they are proven, and one account's plan.

- :mod:`~reconciler.accounts.record`: :class:`AccountRef` and :class:`AccountPlan`, the one record of an
  account's plan that planning, saved plans, apply and every renderer share (no I/O).
- :mod:`~reconciler.accounts.environment`: credentials from the environment, with the names they came from.
- :mod:`~reconciler.accounts.directory`: the v2010 Accounts resource, and the request that proves a key's account.
- :mod:`~reconciler.accounts.reach`: each account of a run reached with credentials proven to be its own.
- :mod:`~reconciler.accounts.run`: a run across accounts, its safety gate and its one-account-one-name check.
"""
