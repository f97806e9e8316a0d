"""The ``env_cls`` fixture of the reach-env tests: each test runs on both variants."""

from __future__ import annotations

import pytest

from jepa_agent.envs import ReachEnv
from tests.envs.reach_helpers import ENV_CLASSES


@pytest.fixture(params=ENV_CLASSES, ids=lambda cls: cls.__name__)
def env_cls(request) -> type[ReachEnv]:
    return request.param
