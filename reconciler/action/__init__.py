"""The GitHub Action of ``action.yml``, as code tests can run: ``python -m reconciler.action``.

``commands`` holds plan, apply and drift; ``github`` what they exchange with GitHub (step outputs,
the step summary, annotations, the event, the pull-request comment through GitHub's API) and how the
CLI runs (a subprocess: ``sys.executable -m reconciler``). Inputs come from the environment;
see action.yml and docs/gitops.md.
"""
