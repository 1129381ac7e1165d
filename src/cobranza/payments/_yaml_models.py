"""User-owned YAML configuration validated by pydantic, errors naming the file and the line.

Shared by the case rules and the partner contracts (and by the CSV mappings and reconciliation
rules, which import it from the readers' common module where it lives). The YAML is read with
the partner-file loader, which keeps each key's line and reads numbers as exact decimals (a fee
of ``0.10`` stays ``Decimal("0.10")``, never a binary float).
"""

from cobranza.payments.readers._common import line_of, load_model

__all__ = ["line_of", "load_model"]
