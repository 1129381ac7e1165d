"""The feature table: the catalog's variables for every active loan at one as-of date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from cobranza.features import _variables
from cobranza.features._driver import Driver, Variable
from cobranza.ledger import account_states

#: Every node of the catalog (variables and the helper tables they share), in module order.
NODES = [
    obj
    for name, obj in vars(_variables).items()
    if callable(obj)
    and not name.startswith("_")
    and getattr(obj, "__module__", None) == _variables.__name__
    and name != "months_before"
]

DRIVER = Driver(NODES)

#: The catalog: variable name → :class:`Variable` (dtype, unit, description, formula).
CATALOG: dict[str, Variable] = DRIVER.variables

#: Base tables a variable may name as a parameter.
BASE_TABLES = ("loans", "customers", "installments", "payments", "contacts", "promises")


def accounts_at(
    tables: Mapping[str, ir.Table], as_of: dt.date, states: ir.Table | None = None
) -> ir.Table:
    """The active loans at ``as_of``: their account state with ``opened_on``, ``principal``,
    ``frequency`` and the customer's ``monthly_income``.

    ``states`` (e.g. the run's account states, any dates) saves recomputing the state; by
    default it is :func:`cobranza.ledger.account_states` at ``as_of``.
    """
    if states is None:
        states = account_states(tables["loans"], tables["installments"], tables["payments"], as_of)
    active = states.filter((states.as_of == ibis.date(as_of)) & (states.status == "active"))
    loans = tables["loans"].select("loan_id", "opened_on", "principal", "frequency")
    customers = tables["customers"].select("customer_id", "monthly_income")
    with_loan = active.inner_join(loans, "loan_id").select(
        active, loans.opened_on, loans.principal, loans.frequency
    )
    return with_loan.left_join(customers, "customer_id").select(with_loan, customers.monthly_income)


def compute_features(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    states: ir.Table | None = None,
    variables: Sequence[str] | None = None,
) -> ir.Table:
    """One row per loan active at ``as_of``: ``loan_id``, ``as_of``, ``customer_id`` and one
    column per catalog variable (all of :data:`CATALOG` unless ``variables`` names some).

    ``tables`` maps the contract table names to Ibis tables as :func:`cobranza.contract.load`
    returns them (it registers absent optional tables, ``contacts`` and ``promises``, empty).
    Nothing dated after ``as_of`` is read: payments, contacts and promises are cut at the end
    of the Mexico City day.
    """
    names = list(CATALOG) if variables is None else list(variables)
    unknown = [name for name in names if name not in CATALOG]
    if unknown:
        raise KeyError(f"unknown variables {unknown}; the catalog has {sorted(CATALOG)}")
    accounts = accounts_at(tables, as_of, states).view()
    inputs: dict[str, object] = {name: tables[name] for name in BASE_TABLES if name in tables}
    inputs["as_of"] = as_of
    return DRIVER.execute(names, inputs, accounts, keys=("loan_id", "as_of", "customer_id"))
