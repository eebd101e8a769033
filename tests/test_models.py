"""The models package: everything its modules offer is importable from ``reconciler.models`` itself."""

from __future__ import annotations

import reconciler.models as models
from reconciler.models import desired, live, pools, rules


def test_every_public_name_of_the_package_is_its_module_s_own():
    homes = (rules, desired, live, pools)
    assert len(models.__all__) == len(set(models.__all__))
    for name in models.__all__:
        value = getattr(models, name)
        assert any(getattr(home, name, None) is value for home in homes), name


def test_the_package_offers_every_model_its_modules_define():
    public = {name for home in (desired, live) for name, value in vars(home).items()
              if isinstance(value, type) and value.__module__ == home.__name__ and not name.startswith("_")}
    assert public <= set(models.__all__), public - set(models.__all__)
