"""Typed readers for settings from the environment that fail loudly on bad values."""

import os
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None) -> str:
    """A string; a missing variable without a default is a configuration error."""
    value = _raw(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_optional(name: str) -> str | None:
    """A string or None when unset or empty."""
    value = _raw(name)
    return value or None


def env_bool(name: str, default: bool) -> bool:
    """true/false/1/0/yes/no/on/off; anything else is an error, not a silent False."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name}={value!r} is not a boolean (use true or false)."
    )


def _number[T: (int, float)](name: str, default: T, cast: Callable[[str], T], minimum: T) -> T:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = cast(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} is not a valid {cast.__name__}."
        ) from None
    if number < minimum:
        raise ImproperlyConfigured(f"Environment variable {name}={value!r} is below {minimum}.")
    return number


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """A whole number at least ``minimum``."""
    return _number(name, default, int, minimum)


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]
