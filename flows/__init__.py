"""Prefect flows: thin orchestration over extractors/ and storage/."""

from __future__ import annotations

from typing import TypeVar, cast

from prefect.utilities.annotations import quote

T = TypeVar("T")


def as_is(value: T) -> T:
    """`value` passed to a task without Prefect walking it for futures (quote()), which on a
    list of articles costs more than the task; typed as the value, as the task receives it."""
    return cast(T, quote(value))
