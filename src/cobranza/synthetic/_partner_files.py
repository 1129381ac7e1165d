"""Partner files for a synthetic book, with defects injected at known rates.

From a portfolio written by :func:`cobranza.synthetic.generate`, write what the payment partners
would have sent over the last ``days`` days, in the formats the readers of
:mod:`cobranza.payments` accept:

* SPEI and CoDi (``STP``, ``ARCUS``, ``BANXICO-CODI``): STP deposit lists (JSON), one file per
  partner and operation day, settled the same day.
* OXXO cash (``OXXO-CONEKTA``, ``OXXO-OPENPAY``): Conekta ``order.paid`` webhook events (JSON),
  with the processor's fee on each charge.
* Cards and direct debits (``PROSA``, ``OPENPAY``, ``BBVA-DOMI``, ``BANORTE-DOMI``): camt.053
  statements with one **batch** entry per payment day, settled the next day net of fees, and a
  reversal entry for every payment the lender reversed.
* Bank-branch cash (``*-VENTANILLA``): camt.053 statements, one entry per deposit.

Payroll and ``OTHER`` payments have no partner file (out of reconciliation's scope).

Defects are injected into payments (and batches) chosen at random with the given rates among
those where the defect is unambiguous (the loan has no other payment within 50 days, so that
nothing but the defect can explain what reconciliation sees). ``ground_truth.csv`` lists each
injected defect with the exception it must produce (root cause, partner, external id, payment
id). Splits (one payment sent as two transfers) are injected too: they are not defects and must
produce no exception.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow.parquet as pq

from cobranza._atomic import atomic_directory

__all__ = [
    "DEMO_SETTLEMENT_DAYS",
    "GROUND_TRUTH_COLUMNS",
    "DefectRates",
    "PartnerFiles",
    "write_partner_files",
]

MEXICO_CITY = ZoneInfo("America/Mexico_City")
CENT = Decimal("0.01")

#: Contract settlement days of the synthetic partners (what the partner-terms mapping gives).
DEMO_SETTLEMENT_DAYS: dict[str, int] = {
    "STP": 1, "ARCUS": 1, "BANXICO-CODI": 1, "OXXO-CONEKTA": 2, "OXXO-OPENPAY": 2,
    "PROSA": 2, "OPENPAY": 2, "BBVA-DOMI": 2, "BANORTE-DOMI": 2, "BBVA-VENTANILLA": 1,
    "BANAMEX-VENTANILLA": 1,
}  # fmt: skip

_STP = ("STP", "ARCUS", "BANXICO-CODI")
_CONEKTA = ("OXXO-CONEKTA", "OXXO-OPENPAY")
_BATCH = ("PROSA", "OPENPAY", "BBVA-DOMI", "BANORTE-DOMI")
_BRANCH = ("BBVA-VENTANILLA", "BANAMEX-VENTANILLA")
#: Fee rates (and fixed fees) the processors take.
_FEE_RATE = {"PROSA": Decimal("0.029"), "OPENPAY": Decimal("0.0325")}
_FEE_FIXED = {"BBVA-DOMI": Decimal("3.00"), "BANORTE-DOMI": Decimal("2.50")}
_OXXO_FEE_RATE = Decimal("0.035")

GROUND_TRUTH_COLUMNS = (
    "defect", "root_cause", "partner_id", "external_id", "payment_id", "loan_id", "detail",
)  # fmt: skip


@dataclass(frozen=True)
class DefectRates:
    """Share of eligible payments (``late_batch``: of batches) that get each defect."""

    duplicate_report: float = 0.01
    duplicate_payment: float = 0.005
    missing_settlement: float = 0.01
    amount_mismatch: float = 0.01
    late_settlement: float = 0.01
    late_batch: float = 0.03
    unknown_reference: float = 0.01
    unapplied_credit: float = 0.005
    chargeback: float = 0.01
    split: float = 0.01


@dataclass
class PartnerFiles:
    """What :func:`write_partner_files` wrote: files per partner, the ground truth, the terms."""

    folder: Path
    files: dict[str, list[Path]]
    ground_truth: Path
    settlement_days: dict[str, int]
    as_of: dt.date
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Pay:
    payment_id: str
    loan_id: str
    partner: str
    channel: str
    paid_at: dt.datetime
    paid_on: dt.date
    amount: Decimal
    reference: str | None
    status: str


@dataclass
class _Tx:
    """One partner record before it is written in the partner's format."""

    partner: str
    external_id: str
    value_date: dt.date
    moment: dt.datetime
    amount: Decimal
    reference: str | None
    fee: Decimal | None = None
    status: str = "settled"
    codi: bool = False
    copy: bool = False


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _load(book: Path) -> tuple[list[_Pay], dt.date]:
    table = pq.read_table(book / "payments.parquet")
    meta = table.schema.metadata or {}
    as_of = dt.date.fromisoformat(meta.get(b"cobranza.as_of", b"2026-10-31").decode())
    rows = table.to_pylist()
    pays = []
    for r in rows:
        local = r["paid_at"].astimezone(MEXICO_CITY)
        pays.append(
            _Pay(r["payment_id"], r["loan_id"], r["partner_id"] or "", r["channel"],
                 r["paid_at"], local.date(), Decimal(r["amount"]), r["reference"], r["status"])
        )  # fmt: skip
    return pays, as_of


def write_partner_files(
    book: str | Path,
    out: str | Path,
    *,
    days: int = 60,
    seed: int = 0,
    rates: DefectRates | None = None,
    settlement_days: Mapping[str, int] | None = None,
    replace: bool = False,
) -> PartnerFiles:
    """Write partner files for the payments of ``book`` made in the ``days`` up to its as-of.

    Args:
        book: A portfolio folder written by ``cobranza.synthetic.generate``.
        out: Folder to create (atomically): ``<partner_id>/<files>``, ``ground_truth.csv`` and
            ``manifest.json``.
        days: Payments made in ``[as_of − days, as_of]`` are settled in the files; reconcile
            with ``lookback_days = days`` (the default, 60, is reconciliation's default).
        seed: Randomness of the defects; the same book, seed and rates give the same files.
        rates: Defect rates (:class:`DefectRates`).
        settlement_days: Contract days per partner (default :data:`DEMO_SETTLEMENT_DAYS`).
    """
    rates = rates or DefectRates()
    terms = dict(settlement_days or DEMO_SETTLEMENT_DAYS)
    pays, as_of = _load(Path(book))
    rng = np.random.default_rng(seed)
    start = as_of - dt.timedelta(days=days)
    window = [
        p for p in pays
        if start <= p.paid_on <= as_of and p.status in ("settled", "reversed")
        and p.partner in terms
    ]  # fmt: skip
    by_loan: dict[str, list[dt.date]] = defaultdict(list)
    for p in pays:
        by_loan[p.loan_id].append(p.paid_on)
    oxxo_ref = {p.loan_id: p.reference for p in pays if p.channel == "oxxo" and p.reference}
    known_refs = {p.reference for p in pays if p.reference} | {p.loan_id for p in pays}
    used_loans: set[str] = set()
    truth: list[dict[str, Any]] = []

    def alone(p: _Pay) -> bool:
        return (
            p.loan_id not in used_loans
            and all(abs((d - p.paid_on).days) > 50 or d == p.paid_on for d in by_loan[p.loan_id])
            and by_loan[p.loan_id].count(p.paid_on) == 1
        )

    def pick(candidates: list[_Pay], rate: float) -> list[_Pay]:
        chosen = [p for p in candidates if alone(p) and rng.random() < rate]
        for p in chosen:
            used_loans.add(p.loan_id)
        return chosen

    def note(defect: str, cause: str, partner: str, ext: str | None, pay: str | None,
             loan: str | None, detail: str) -> None:  # fmt: skip
        truth.append(dict(defect=defect, root_cause=cause, partner_id=partner, external_id=ext,
                          payment_id=pay, loan_id=loan, detail=detail))  # fmt: skip

    def sd(p: _Pay) -> int:
        return terms.get(p.partner, 1)

    per_payment = [p for p in window if p.partner in _STP + _CONEKTA + _BRANCH]
    settled_pp = [p for p in per_payment if p.status == "settled"]
    # Defects, each on its own loans; eligibility keeps each one unambiguous.
    old = [p for p in settled_pp if (as_of - p.paid_on).days >= 12]
    missing = {p.payment_id for p in pick(old, rates.missing_settlement)}
    mismatch = {p.payment_id for p in pick(old, rates.amount_mismatch)}
    stp_or_branch = [p for p in old if p.partner in _STP + _BRANCH]
    late = {p.payment_id: int(rng.integers(2, 8))
            for p in pick(stp_or_branch, rates.late_settlement)}  # fmt: skip
    amounts = defaultdict(list)
    for p in pays:
        amounts[(p.partner, p.amount)].append(p.paid_on)
    unique_amount = [
        p for p in old if p.partner in _STP + _CONEKTA
        and all(abs((d - p.paid_on).days) > 12 or d == p.paid_on
                for d in amounts[(p.partner, p.amount)])
        and amounts[(p.partner, p.amount)].count(p.paid_on) == 1
    ]  # fmt: skip
    unknown = {p.payment_id for p in pick(unique_amount, rates.unknown_reference)}
    dup_report = {p.payment_id for p in pick(
        [p for p in old if p.partner in _STP + _CONEKTA], rates.duplicate_report)}  # fmt: skip
    dup_payment = {p.payment_id for p in pick(
        [p for p in old if p.partner in _STP + _CONEKTA], rates.duplicate_payment)}  # fmt: skip
    split = {
        p.payment_id
        for p in pick(
            [p for p in old if p.partner in ("STP", "ARCUS") and p.amount >= 2], rates.split
        )
    }
    unapplied = pick([p for p in old if p.partner in _STP + _CONEKTA], rates.unapplied_credit)
    batch_old = [p for p in window if p.partner in _BATCH and p.status == "settled"
                 and (as_of - p.paid_on).days >= 12]  # fmt: skip
    chargeback = {p.payment_id for p in pick(batch_old, rates.chargeback)}

    txs: list[_Tx] = []
    seq = iter(range(1, 10**9))

    def ext_id(partner: str, day: dt.date) -> str:
        code = "".join(ch for ch in partner if ch.isalnum())[:6]
        return f"{code}{day:%Y%m%d}{next(seq):08d}"

    def moment(day: dt.date, p: _Pay | None = None) -> dt.datetime:
        if p is not None and day == p.paid_on:
            return p.paid_at + dt.timedelta(seconds=int(rng.integers(1, 90)))
        local = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(
            seconds=int(rng.integers(0, 8 * 3600))
        )
        return local.replace(tzinfo=MEXICO_CITY).astimezone(dt.UTC)

    def settle(p: _Pay, value: dt.date, amount: Decimal, reference: str | None) -> _Tx:
        fee = _cents(amount * _OXXO_FEE_RATE) if p.partner in _CONEKTA else None
        return _Tx(p.partner, ext_id(p.partner, value), value, moment(value, p), amount,
                   reference, fee=fee, codi=p.channel == "codi")  # fmt: skip

    for p in per_payment:
        ref = p.reference
        if p.partner in _BRANCH:
            ref = p.reference or p.loan_id
        if p.status == "reversed":
            if p.partner in _STP:  # STP lists the orden in its latest state: devuelta
                txs.append(_Tx(p.partner, ext_id(p.partner, p.paid_on), p.paid_on,
                               moment(p.paid_on, p), p.amount, ref, status="returned",
                               codi=p.channel == "codi"))  # fmt: skip
            continue
        if p.payment_id in missing:
            note("missing_settlement", "unsettled_payment", p.partner, None, p.payment_id,
                 p.loan_id, "no settlement written")  # fmt: skip
            continue
        value = p.paid_on + dt.timedelta(days=sd(p) + late.get(p.payment_id, -sd(p)))
        if value > as_of:
            continue  # in transit at as-of
        if p.payment_id in split:
            first = _cents(p.amount * Decimal(rng.uniform(0.3, 0.7)))
            for part in (first, p.amount - first):
                txs.append(settle(p, value, part, ref))
            continue
        amount = p.amount
        if p.payment_id in mismatch:
            amount = p.amount - max(Decimal(20), _cents(p.amount * Decimal("0.1")))
            if amount <= 0:
                amount = p.amount + Decimal(25)
        if p.payment_id in unknown:
            ref = _unknown_reference(rng, p, known_refs)
        tx = settle(p, value, amount, ref)
        txs.append(tx)
        if p.payment_id in late:
            note(
                "late_settlement",
                "late_settlement",
                p.partner,
                tx.external_id,
                p.payment_id,
                p.loan_id,
                f"value date {late[p.payment_id]} days after the contract allows",
            )
        if p.payment_id in mismatch:
            note(
                "amount_mismatch",
                "amount_mismatch",
                p.partner,
                tx.external_id,
                p.payment_id,
                p.loan_id,
                f"partner amount {amount} vs payment {p.amount}",
            )
        if p.payment_id in unknown:
            note(
                "unknown_reference",
                "unknown_reference",
                p.partner,
                tx.external_id,
                p.payment_id,
                p.loan_id,
                f"reference {ref!r} instead of {p.reference!r}",
            )
        if p.payment_id in dup_report:
            copy = _Tx(**{**asdict(tx), "copy": True})
            txs.append(copy)
            note(
                "duplicate_report",
                "duplicate",
                p.partner,
                tx.external_id,
                None,
                p.loan_id,
                "the transaction is reported again in the next file",
            )
        if p.payment_id in dup_payment:
            # A later id: the first payment keeps the lender's payment when both tie.
            twin = _Tx(**{**asdict(tx), "external_id": ext_id(p.partner, value)})
            txs.append(twin)
            note(
                "duplicate_payment",
                "duplicate",
                p.partner,
                twin.external_id,
                None,
                p.loan_id,
                f"customer paid twice; {tx.external_id} settled the payment",
            )
    for p in unapplied:
        # A second credit the lender never recorded, three days after a payment of the loan
        # (which settles normally): the customer paid and the lender does not know it.
        day = p.paid_on + dt.timedelta(days=3)
        ref = p.reference if p.partner in _STP else oxxo_ref.get(p.loan_id, p.reference)
        tx = settle(p, day, p.amount, ref)
        tx.moment = moment(day)
        txs.append(tx)
        note(
            "unapplied_credit",
            "unapplied_credit",
            p.partner,
            tx.external_id,
            None,
            p.loan_id,
            "credit with no lender payment",
        )

    # Daily batches of card and direct-debit processors, net of fees, settled the next day.
    batches: dict[tuple[str, dt.date], list[_Pay]] = defaultdict(list)
    for p in window:
        if p.partner in _BATCH:
            batches[(p.partner, p.paid_on)].append(p)
    for (partner, day), members in sorted(batches.items()):
        gross = sum((p.amount for p in members), Decimal(0))
        fee = sum((_fee(partner, p.amount) for p in members), Decimal(0))
        lag = 1
        is_late = day <= as_of - dt.timedelta(days=12) and rng.random() < rates.late_batch
        if is_late:
            lag = terms.get(partner, 1) + int(rng.integers(2, 6))
        value = day + dt.timedelta(days=lag)
        if value > as_of:
            continue
        tx = _Tx(partner, ext_id(partner, value), value, moment(value), gross - fee,
                 f"LOTE-{partner}-{day:%Y%m%d}", fee=fee)  # fmt: skip
        txs.append(tx)
        if is_late:
            only = members[0] if len(members) == 1 else None
            note(
                "late_batch",
                "late_settlement",
                partner,
                tx.external_id,
                only.payment_id if only else None,
                only.loan_id if only else None,
                f"batch of {day} settled {lag} days later",
            )
    for p in window:
        if p.partner not in _BATCH:
            continue
        back = p.status == "reversed" or p.payment_id in chargeback
        value = p.paid_on + dt.timedelta(days=3)
        if not back or value > as_of:
            continue
        tx = _Tx(p.partner, ext_id(p.partner, value), value, moment(value), -p.amount,
                 p.reference or p.loan_id, status="reversed")  # fmt: skip
        txs.append(tx)
        if p.payment_id in chargeback:
            note(
                "chargeback",
                "reversal",
                p.partner,
                tx.external_id,
                p.payment_id,
                p.loan_id,
                "chargeback of a payment the lender still counts",
            )

    folder = Path(out)
    files: dict[str, list[Path]] = defaultdict(list)
    with atomic_directory(folder, replace=replace) as tmp:
        by_file: dict[tuple[str, dt.date], list[_Tx]] = defaultdict(list)
        for tx in txs:
            day = tx.value_date + dt.timedelta(days=1) if tx.copy else tx.value_date
            by_file[(tx.partner, day)].append(tx)
        for (partner, day), rows in sorted(by_file.items()):
            target = tmp / partner
            target.mkdir(exist_ok=True)
            if partner in _STP:
                path = target / f"stp_{day:%Y%m%d}.json"
                path.write_text(_stp(rows), encoding="utf-8")
            elif partner in _CONEKTA:
                path = target / f"conekta_{day:%Y%m%d}.json"
                path.write_text(_conekta(rows), encoding="utf-8")
            else:
                path = target / f"camt053_{day:%Y%m%d}.xml"
                path.write_text(_camt(partner, day, rows), encoding="utf-8")
            files[partner].append(folder / partner / path.name)
        with (tmp / "ground_truth.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=GROUND_TRUTH_COLUMNS)
            writer.writeheader()
            writer.writerows(truth)
        counts = defaultdict(int)
        for row in truth:
            counts[row["defect"]] += 1
        manifest = {
            "as_of": as_of.isoformat(), "days": days, "seed": seed, "rates": asdict(rates),
            "settlement_days": terms, "transactions": len(txs), "defects": dict(counts),
            "files": {k: [p.name for p in v] for k, v in files.items()},
        }  # fmt: skip
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return PartnerFiles(folder, dict(files), folder / "ground_truth.csv", terms, as_of,
                        dict(counts))  # fmt: skip


def _fee(partner: str, amount: Decimal) -> Decimal:
    if partner in _FEE_RATE:
        return _cents(amount * _FEE_RATE[partner])
    return _FEE_FIXED.get(partner, Decimal(0))


def _unknown_reference(rng: np.random.Generator, p: _Pay, known: set[str]) -> str:
    digits = 14 if p.channel == "oxxo" else 7
    while True:
        low = 10 ** (digits - 1) * 9
        ref = str(int(rng.integers(low, 10**digits)))
        if ref not in known and ref.lstrip("0") not in known:
            return ref


def _number(value: Decimal) -> str:
    return format(value, "f")


def _stp(rows: list[_Tx]) -> str:
    items = []
    for tx in rows:
        ref = tx.reference or ""
        numeric = ref.lstrip("L") if ref.startswith("L") else ref
        estado = "D" if tx.status == "returned" else "LQ"
        fields = {
            "claveRastreo": json.dumps(tx.external_id),
            "conceptoPago": json.dumps("PAGO CREDITO"),
            "cuentaBeneficiario": json.dumps("646180157000000004"),
            "cuentaOrdenante": json.dumps("058597000027474792"),
            "empresa": json.dumps("COBRANZA"),
            "estado": json.dumps(estado),
            "fechaOperacion": json.dumps(f"{tx.value_date:%Y%m%d}"),
            "monto": _number(tx.amount),
            "referenciaNumerica": str(int(numeric)) if numeric.isdigit() else "0",
            "tipoCuentaOrdenante": "40",
            "tipoPago": "19" if tx.codi else "1",
            "tsLiquidacion": str(int(tx.moment.timestamp() * 1000)),
        }
        body = ",\n".join(f'        "{k}": {v}' for k, v in fields.items())
        items.append("      {\n" + body + "\n      }")
    return '{\n  "resultado": {\n    "lst": [\n' + ",\n".join(items) + "\n    ]\n  }\n}\n"


def _conekta(rows: list[_Tx]) -> str:
    events = []
    for tx in rows:
        cents = int(tx.amount * 100)
        fee = int((tx.fee or Decimal(0)) * 100)
        charge = {
            "id": tx.external_id, "object": "charge", "amount": cents, "fee": fee,
            "currency": "MXN", "status": "paid", "paid_at": int(tx.moment.timestamp()),
            "payment_method": {"type": "cash", "object": "cash_payment",
                               "reference": tx.reference, "service_name": "OxxoPay"},
        }  # fmt: skip
        order = {
            "id": "ord_" + tx.external_id, "object": "order", "currency": "MXN",
            "amount": cents, "payment_status": "paid",
            "charges": {"object": "list", "data": [charge]},
        }  # fmt: skip
        events.append({"id": "evt_" + tx.external_id, "object": "event", "type": "order.paid",
                       "data": {"object": order}})  # fmt: skip
    return json.dumps(events, indent=2) + "\n"


def _camt(partner: str, day: dt.date, rows: list[_Tx]) -> str:
    from xml.sax.saxutils import escape

    entries = []
    for tx in rows:
        debit = tx.amount < 0
        fee = ""
        if tx.fee:
            fee = f'<Chrgs><Rcrd><Amt Ccy="MXN">{_number(tx.fee)}</Amt></Rcrd></Chrgs>'
        entries.append(
            "<Ntry>"
            f"<NtryRef>{escape(tx.external_id)}</NtryRef>"
            f'<Amt Ccy="MXN">{_number(abs(tx.amount))}</Amt>'
            f"<CdtDbtInd>{'DBIT' if debit else 'CRDT'}</CdtDbtInd>"
            + ("<RvslInd>true</RvslInd>" if tx.status == "reversed" else "")
            + "<Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{tx.value_date.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{tx.value_date.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{escape(tx.external_id)}</AcctSvcrRef>"
            f"{fee}"
            "<NtryDtls><TxDtls><RmtInf><Strd><CdtrRefInf>"
            f"<Ref>{escape(tx.reference or '')}</Ref>"
            "</CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls>"
            "</Ntry>"
        )
    ident = f"{partner}-{day:%Y%m%d}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n'
        "<BkToCstmrStmt>\n"
        f"<GrpHdr><MsgId>{escape(ident)}</MsgId>"
        f"<CreDtTm>{day.isoformat()}T23:00:00-06:00</CreDtTm></GrpHdr>\n"
        f"<Stmt><Id>{escape(ident)}</Id>"
        "<Acct><Id><Othr><Id>646180157000000004</Id></Othr></Id><Ccy>MXN</Ccy></Acct>\n"
        + "\n".join(entries)
        + "\n</Stmt>\n</BkToCstmrStmt>\n</Document>\n"
    )
