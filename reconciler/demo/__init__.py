"""``reconciler demo``: the example file planned (and applied) against an embedded emulator.

:mod:`~reconciler.demo.loop` runs it; :mod:`~reconciler.demo.cli` is its command, which ``--help`` can list
without importing the loop (the session, the emulator).
"""
