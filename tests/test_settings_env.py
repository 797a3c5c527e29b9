"""The typed environment readers used by the settings fail loudly on bad values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from billing_ops.env import env_bool, env_int, env_list, env_optional, env_str

VAR = "BILLING_OPS_TEST_VARIABLE"


@pytest.mark.parametrize("value", ["maybe", "2", "truthy", "nope"])
def test_env_bool_rejects_non_booleans(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    with pytest.raises(ImproperlyConfigured, match=VAR):
        env_bool(VAR, False)


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " true "])
def test_env_bool_accepts_true_forms(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    assert env_bool(VAR, False) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", ""])
def test_env_bool_accepts_false_forms(monkeypatch, value):
    monkeypatch.setenv(VAR, value)
    assert env_bool(VAR, True) is False


def test_env_bool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert env_bool(VAR, True) is True
    assert env_bool(VAR, False) is False


def test_env_int_rejects_non_numbers(monkeypatch):
    monkeypatch.setenv(VAR, "abc")
    with pytest.raises(ImproperlyConfigured, match="not a valid int"):
        env_int(VAR, 5)


def test_env_int_rejects_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv(VAR, "0")
    with pytest.raises(ImproperlyConfigured, match="below 1"):
        env_int(VAR, 5, minimum=1)


def test_env_int_reads_numbers_and_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv(VAR, " 42 ")
    assert env_int(VAR, 5, minimum=1) == 42
    monkeypatch.setenv(VAR, "")
    assert env_int(VAR, 5) == 5
    monkeypatch.delenv(VAR)
    assert env_int(VAR, 7) == 7


def test_env_str_is_required_without_a_default(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    with pytest.raises(ImproperlyConfigured, match=f"{VAR} is required"):
        env_str(VAR)
    monkeypatch.setenv(VAR, "   ")
    with pytest.raises(ImproperlyConfigured):
        env_str(VAR)


def test_env_str_reads_the_value_or_the_default(monkeypatch):
    monkeypatch.setenv(VAR, "  value ")
    assert env_str(VAR) == "value"
    monkeypatch.delenv(VAR)
    assert env_str(VAR, "fallback") == "fallback"


def test_env_optional_and_env_list(monkeypatch):
    monkeypatch.setenv(VAR, "")
    assert env_optional(VAR) is None
    assert env_list(VAR, ["x"]) == []
    monkeypatch.setenv(VAR, "a.example, ,b.example,")
    assert env_optional(VAR) == "a.example, ,b.example,"
    assert env_list(VAR, []) == ["a.example", "b.example"]
    monkeypatch.delenv(VAR)
    assert env_list(VAR, ["default"]) == ["default"]
