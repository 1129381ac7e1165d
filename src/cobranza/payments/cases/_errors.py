"""Errors of the case store."""

from __future__ import annotations

from cobranza._errors import CobranzaError

__all__ = ["CaseError", "CaseNotFound", "IllegalTransition", "StaleCase"]


class CaseError(CobranzaError):
    """Base of the errors the case store raises on purpose."""


class CaseNotFound(CaseError, LookupError):
    """No case has that id."""


class IllegalTransition(CaseError, ValueError):
    """The lifecycle does not allow that change (or a note would be edited)."""


class StaleCase(CaseError, RuntimeError):
    """Someone else changed the case since it was read: nothing was written.

    ``case_id`` names the case; ``expected`` is the version the caller worked from and
    ``actual`` the version in the store when known. Re-read the case and redo the change.
    """

    def __init__(self, case_id: int, expected: int | None, actual: int | None) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        now = f", it is now at version {actual}" if actual is not None else ""
        super().__init__(
            f"case {case_id} was changed by someone else since version {expected} was read{now}; "
            "nothing was written: reload the case and apply the change again"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (StaleCase, (self.case_id, self.expected, self.actual))
