"""Errors of the models domain (subclasses of the tree in ``cobranza._errors``)."""

from __future__ import annotations

from cobranza._errors import CobranzaError

__all__ = ["IllegalTransition", "ModelError", "ModelNotFound", "ModelNotUsable"]


class ModelError(CobranzaError, ValueError):
    """A model cannot be trained, stored, compiled or scored as asked."""


class ModelNotFound(ModelError, LookupError):
    """No model with that id in the registry."""


class IllegalTransition(ModelError):
    """A status change the governance rules forbid (e.g. making an unapproved model live)."""


class ModelNotUsable(ModelError):
    """A strategy asked for a model that is not approved or live."""
