"""Shared fixtures: where the scenarios and headers are."""
import os

import pytest

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture
def scenarios():
    return os.path.join(SOURCE, "scenarios")


@pytest.fixture
def include_dir():
    return os.path.join(SOURCE, "include")
