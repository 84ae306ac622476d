"""The test helpers themselves: ``require`` skips on a developer's machine and fails under CI=true."""

from __future__ import annotations

import pytest
from conftest import require


def test_require_passes_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    require("/usr/bin/chromium", "no Chromium")  # a condition that holds: nothing happens, even under CI
    with pytest.raises(pytest.fail.Exception, match="^CI=true and no Chromium"):
        require(None, "no Chromium")
    for local in ("", "false", "0"):
        monkeypatch.setenv("CI", local)
        with pytest.raises(pytest.skip.Exception, match="^no Chromium$"):
            require(None, "no Chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require(False, "no seed files")
