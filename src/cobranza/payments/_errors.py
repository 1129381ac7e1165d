"""The error a partner file raises when it cannot be imported whole."""

from __future__ import annotations

from cobranza._errors import ContractError

__all__ = ["PartnerFileError"]


class PartnerFileError(ContractError):
    """A partner file is malformed, or not of the format it was read as.

    The message names the file and where in it the problem is: a line for text formats (MT940,
    CSV, JSON, YAML), an element path and its source line for XML. Nothing of a file that raised
    this has been imported.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        element: str | None = None,
    ) -> None:
        self.file = file
        self.reason = reason
        self.line = line
        self.element = element
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.element is not None:
            where += f", element {self.element}"
        return f"{where}: {self.reason}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments do not survive the default pickling of exceptions, and an
        # error that cannot cross a process boundary is lost in a worker pool.
        return (_rebuild, (self.file, self.reason, self.line, self.element))


def _rebuild(file: str, reason: str, line: int | None, element: str | None) -> PartnerFileError:
    return PartnerFileError(file, reason, line=line, element=element)
