"""Partner-file readers on the real files in ``shared/data/payment_files`` and on edge cases.

Each real file is either read into ``partner_transactions`` or rejected with a PartnerFileError
naming the file and a line or element; the tables below say which, and what each one holds.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cobranza import ConfigError
from cobranza.payments import (
    PARTNER_TRANSACTIONS,
    WARNINGS_KEY,
    CsvMapping,
    PartnerFileError,
    detect_format,
    load_csv_mapping,
    read_camt,
    read_conekta,
    read_csv,
    read_mt940,
    read_partner_file,
    read_stp,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "payment_files"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared payment files are absent")
CDMX = ZoneInfo("America/Mexico_City")


def _inputs() -> list[Path]:
    """Every partner file, leaving out the READMEs and the expected parses beside the inputs."""
    if not DATA.is_dir():
        return []
    files = []
    for path in sorted(DATA.rglob("*")):
        expected_parse = (path.suffix == ".yml" and "mt940" in path.parts) or (
            path.suffix == ".json" and "camt" in path.parts
        )
        if path.is_file() and path.suffix != ".md" and not expected_parse:
            files.append(path)
    return files


def _key(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


#: Files read, with their row count.
READ = {
    "camt/camt052.v1.xml": 1, "camt/camt052.v2.other-account.xml": 1,
    "camt/camt052.v2.with-account-name.xml": 1, "camt/camt052.v2.xml": 1,
    "camt/camt052.v4.xml": 1, "camt/camt052.v6.Amt-zero.xml": 1, "camt/camt052.v6.xml": 1,
    "camt/camt052.v8.xml": 1, "camt/camt053.v2.all-balance-types.xml": 1,
    "camt/camt053.v2.five.decimals.xml": 1, "camt/camt053.v2.minimal.ultimate.xml": 1,
    "camt/camt053.v2.minimal.xml": 1, "camt/camt053.v2.multi.statement.xml": 2,
    "camt/camt053.v2.with-account-name.xml": 1, "camt/camt053.v2.with-party-ids.xml": 1,
    "camt/camt053.v3.xml": 1, "camt/camt053.v4.xml": 1, "camt/camt053.v8.xml": 1,
    "camt/camt054.v2.with-account-name.xml": 1, "camt/camt054.v2.xml": 1,
    "camt/camt054.v4.xml": 1, "camt/camt054.v8-with-UETR.xml": 1,
    "camt/camt054.v8-with-financial-institution.xml": 1, "camt/camt054.v8.xml": 1,
    # A statement with balances and no entry: legitimately empty.
    "camt/camt53.only-Dt-with-DtTm.xml": 0,
    "conekta_oxxo/order_cash.yml": 1, "conekta_oxxo/order_cash_multiple.yml": 2,
    "mt940/ASNB/mt940.txt": 8, "mt940/ASNB/mt940_with_spaces_for_entry_date.txt": 8,
    "mt940/betterplace/sepa_mt9401.sta": 97, "mt940/betterplace/sepa_snippet.sta": 11,
    "mt940/betterplace/with_binary_character.sta": 4, "mt940/citi/mt940.txt": 5,
    "mt940/cmxl/mt940.sta": 16, "mt940/jejik/abnamro.sta": 10, "mt940/jejik/generic.sta": 2,
    "mt940/jejik/ing.sta": 7, "mt940/jejik/knab.sta": 3, "mt940/jejik/postfinance.sta": 4,
    "mt940/jejik/rabobank-iban.sta": 4, "mt940/jejik/rabobank.sta": 5, "mt940/jejik/sns.sta": 2,
    "mt940/jejik/triodos.sta": 2, "mt940/mBank/mt940.sta": 3, "mt940/mBank/mt942.sta": 3,
    "mt940/mBank/with_newline_in_tnr.sta": 2, "mt940/sberbank/171011_01234945.sta": 3,
    "mt940/self-provided/details_60-63.sta": 1, "mt940/self-provided/february_30.sta": 1,
    # Opening and closing balance, no movement: legitimately empty.
    "mt940/self-provided/long_statement_number.sta": 0,
    "mt940/self-provided/mt942.sta": 1, "mt940/self-provided/overly_long_details.sta": 1,
    "mt940/self-provided/raiffeisen-cmi.sta": 7, "mt940/self-provided/raphaelm.sta": 9,
    "mt940/self-provided/transaction_details_wrapped.sta": 1,
    "mt940/self-provided/whitespace.sta": 1, "mt940/self-provided/wrapped_timestamp.sta": 1,
    "spei_stp/deposits_20230825.json": 4, "spei_stp/deposits_20230828.json": 7,
}  # fmt: skip

#: Files rejected: (line, element or None, words of the reason).
REJECTED = {
    "camt/camt053.v2.wrong.xml": (3, "Document/BkToCstmrStmt", "contains no Stmt"),
    # OpenAPI schemas shipped beside the payloads: not payment files.
    "conekta_oxxo/charge_payment_method_cash_response.yml": (1, None, "OpenAPI schema"),
    "conekta_oxxo/event_types.yml": (1, None, "OpenAPI schema"),
    # The malformed MT940 edge cases: not a statement at all, a mistyped :86: that the library
    # reads as a second account, a stray '?' in structured details, a :61: after the end.
    "mt940/self-provided/invalid_statement.sta": (1, None, "no MT940 field"),
    "mt940/betterplace/sepa_snippet_broken.sta": (6, None, ":25: is not allowed after :61:"),
    "mt940/self-provided/malformed_details.sta": (6, None, "'?' that opens no ?NN subfield"),
    "mt940/self-provided/multiline.sta": (38, None, "after the end of the message on line 37"),
    # Single-field snippets (the parser's own unit fixtures) and truncated statements: no
    # :20:/:25:/:28C:/balances, so nothing says which account or currency, nor that it is whole.
    "mt940/betterplace/amount_formats.sta": (1, None, ":60F: before any :20:"),
    "mt940/betterplace/currency_in_25.sta": (1, None, ":25: before any :20:"),
    "mt940/betterplace/empty_86.sta": (1, None, ":86: before any :20:"),
    "mt940/betterplace/empty_entry_date.sta": (1, None, ":61: before any :20:"),
    "mt940/betterplace/empty_line.sta": (2, None, "ends after :20:: incomplete"),
    "mt940/betterplace/missing_crlf_at_end.sta": (1, None, ":62F: before any :20:"),
    "mt940/cmxl/account_balance_credit.sta": (1, None, ":60F: before any :20:"),
    "mt940/cmxl/account_balance_debit.sta": (1, None, ":60F: before any :20:"),
    "mt940/cmxl/account_identification_iban.sta": (1, None, ":25: before any :20:"),
    "mt940/cmxl/account_identification_legacy.sta": (1, None, ":25: before any :20:"),
    "mt940/cmxl/available_balance.sta": (1, None, ":64: before any :20:"),
    "mt940/cmxl/closing_balance.sta": (1, None, ":62F: before any :20:"),
    "mt940/cmxl/reference.sta": (1, None, "ends after :20:: incomplete"),
    "mt940/cmxl/statement_details.sta": (1, None, ":61: before any :20:"),
    "mt940/cmxl/statement_line.sta": (1, None, ":61: before any :20:"),
    "mt940/cmxl/statement_number.sta": (1, None, ":28C: before any :20:"),
    "mt940/self-provided/account_identification.sta": (1, None, "ends after :25:: incomplete"),
    "mt940/self-provided/empty_non_swift.sta": (1, None, ":NS: before any :20:"),
    "mt940/self-provided/gv_codes.sta": (1, None, "ends after :61:: incomplete"),
    "mt940/self-provided/sparkassen.sta": (1, None, ":61: before any :20:"),
}  # fmt: skip


def test_every_real_file_is_accounted_for() -> None:
    keys = {_key(p) for p in _inputs()}
    assert keys == set(READ) | set(REJECTED)
    assert not set(READ) & set(REJECTED)


@pytest.mark.parametrize("path", _inputs(), ids=_key)
def test_every_real_file_is_read_whole_or_rejected_with_its_place(path: Path) -> None:
    key = _key(path)
    if key in REJECTED:
        line, element, reason = REJECTED[key]
        with pytest.raises(PartnerFileError) as caught:
            read_partner_file(path, "partner")
        error = caught.value
        assert (error.file, error.line, error.element) == (path.name, line, element)
        assert reason in error.reason
        assert str(error).startswith(f"{path.name}, line {line}")
    else:
        table = read_partner_file(path, "partner")
        assert table.schema.equals(PARTNER_TRANSACTIONS)
        assert table.num_rows == READ[key]
        assert set(table["source_file"].to_pylist()) <= {path.name}
        assert set(table["partner_id"].to_pylist()) <= {"partner"}
        assert all(line is not None and line >= 1 for line in table["source_line"].to_pylist())


def test_detect_format_routes_each_folder() -> None:
    expected = {"camt": "camt", "conekta_oxxo": "conekta", "mt940": "mt940", "spei_stp": "stp"}
    for path in _inputs():
        assert detect_format(path) == expected[path.relative_to(DATA).parts[0]], path


# --- SPEI (STP) -----------------------------------------------------------------------------


def test_stp_deposits_of_25_august() -> None:
    rows = read_stp(DATA / "spei_stp" / "deposits_20230825.json", "stp").to_pylist()
    got = [(r["external_id"], r["amount"], r["status"], r["reference"]) for r in rows]
    assert got == [
        ("058-25/08/2023/25-300CPWF924", Decimal("40.00"), "settled", "240823"),  # CCO
        ("HSBC438541", Decimal("6000.00"), "returned", "250823"),  # D: sent back
        ("AMU0016929218440013495354", Decimal("2900.00"), "settled", "8244561"),  # TLQ
        ("CUENCA224487850225", Decimal("679.58"), "returned", None),  # LQ devolución
    ]
    assert {r["value_date"] for r in rows} == {dt.date(2023, 8, 25)}
    assert {(r["rail"], r["currency"], r["fee"]) for r in rows} == {("spei", "MXN", None)}
    assert [r["source_line"] for r in rows] == [4, 35, 63, 100]
    assert rows[0]["booked_at"] == dt.datetime(2023, 8, 25, 0, 2, 32, 78000, tzinfo=dt.UTC)
    assert rows[0]["counterparty_account"] == "058597000027474792"
    assert rows[0]["counterparty_account_valid"] is True
    assert rows[3]["counterparty_account"] is None
    assert rows[3]["counterparty_account_valid"] is None
    assert {r["account"] for r in rows} == {"646180157000000004"}


def test_stp_settlement_times_agree_with_banxico_clock() -> None:
    # tsLiquidacion is epoch milliseconds; Banxico's server time is Mexico City local time. On
    # 25 August the ordenes settled when captured agree with Banxico's clock to the second.
    for name in ("deposits_20230825.json",):
        raw = json.loads((DATA / "spei_stp" / name).read_text())["resultado"]["lst"]
        rows = read_stp(DATA / "spei_stp" / name, "stp").to_pylist()
        for orden, row in zip(raw, rows, strict=True):
            if "horaServidorBanxico" in orden and orden["tsLiquidacion"] == orden["tsCaptura"]:
                local = row["booked_at"].astimezone(CDMX)
                banxico = dt.datetime.strptime(orden["horaServidorBanxico"], "%H:%M:%S")
                gap = abs((local.replace(tzinfo=None) - local.replace(
                    hour=banxico.hour, minute=banxico.minute, second=banxico.second,
                    tzinfo=None)).total_seconds())  # fmt: skip
                assert gap <= 1, (name, orden["claveRastreo"])


def test_stp_deposits_of_28_august() -> None:
    table = read_stp(DATA / "spei_stp" / "deposits_20230828.json", "stp")
    rows = {r["external_id"]: r for r in table.to_pylist()}
    assert sum(r["amount"] for r in rows.values()) == Decimal("23480.40")
    assert [r["status"] for r in rows.values()].count("settled") == 4
    assert rows["MBAN01002308280073291391"]["status"] == "returned"  # estado D
    assert rows["MBAN17002308280000779197"]["status"] == "returned"  # tipoPago 17
    assert rows["KUESKI64e64e1376295"]["amount"] == Decimal("0.01")
    assert rows["230828070497534251I"]["rail"] == "codi"  # tipoPago 19, CoDi
    # Paid on Friday evening, Mexico City time, for Monday's operating day.
    first = rows["20202347256237160030011294"]
    assert first["value_date"] == dt.date(2023, 8, 28)
    assert first["booked_at"].astimezone(CDMX).date() == dt.date(2023, 8, 25)


def _stp_file(tmp_path: Path, ordenes: list[dict[str, object]]) -> Path:
    path = tmp_path / "stp.json"
    path.write_text(json.dumps({"resultado": {"lst": ordenes}}, indent=2))
    return path


def _orden(**changes: object) -> dict[str, object]:
    orden: dict[str, object] = {
        "claveRastreo": "ABC1", "estado": "LQ", "fechaOperacion": "20240102", "monto": 10.5,
        "cuentaOrdenante": "646180157000000004", "tipoCuentaOrdenante": 40,
        "tsLiquidacion": 1704218400000, "referenciaNumerica": 1234567, "tipoPago": 1,
    }  # fmt: skip
    orden.update(changes)
    return {k: v for k, v in orden.items() if v is not None}


def test_stp_invalid_clabe_is_recorded_not_rejected(tmp_path: Path) -> None:
    path = _stp_file(tmp_path, [_orden(cuentaOrdenante="646180157000000005")])
    (row,) = read_stp(path, "stp").to_pylist()
    assert row["counterparty_account_valid"] is False
    assert row["amount"] == Decimal("10.50")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"claveRastreo": None}, "no valid claveRastreo"),
        ({"estado": "ZZ"}, "unknown STP estado 'ZZ'"),
        ({"monto": 10.005}, "more decimals than MXN allows"),
        ({"monto": "10"}, "no valid monto"),
        ({"fechaOperacion": "20240231"}, "not a YYYYMMDD date"),
        ({"tsLiquidacion": "yesterday"}, "not an epoch in ms"),
    ],
)
def test_stp_bad_orden_rejects_the_file_naming_its_line(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    path = _stp_file(tmp_path, [_orden(), _orden(**{"claveRastreo": "ABC2", **change})])
    with pytest.raises(PartnerFileError, match=reason) as caught:
        read_stp(path, "stp")
    opening_braces = [i for i, text in enumerate(path.read_text().splitlines(), 1)
                      if text.strip() == "{"]  # fmt: skip
    assert caught.value.line == opening_braces[2]  # the root, the first orden, the second
    assert caught.value.element == "resultado.lst[1]"


def test_stp_broken_json_and_duplicate_keys_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"resultado": {"lst": [\n{"claveRastreo": "A",\n"monto": }\n]}}')
    with pytest.raises(PartnerFileError, match="not valid JSON") as caught:
        read_stp(path, "stp")
    assert caught.value.line == 3
    path.write_text('{"resultado": {"lst": [\n{"monto": 1,\n "monto": 2}]}}')
    with pytest.raises(PartnerFileError, match="'monto' appears twice") as caught:
        read_stp(path, "stp")
    assert caught.value.line == 2


# --- Conekta (OXXO cash) ---------------------------------------------------------------------


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_conekta_cash_orders() -> None:
    path = DATA / "conekta_oxxo" / "order_cash.yml"
    (row,) = read_conekta(path, "conekta").to_pylist()
    assert row["external_id"] == "67c72196e777ac0001f2140c"
    assert row["statement_id"] == "ord_2xayxSvfWzQ2TLz7r"
    assert (row["amount"], row["currency"]) == (Decimal("15.60"), "MXN")  # 1560 centavos
    assert (row["rail"], row["status"]) == ("oxxo", "pending")
    assert row["reference"] == "10001140326893401915"
    assert row["booked_at"] is None and row["value_date"] is None  # not paid yet
    assert row["source_line"] == _line_of(path, "- id: 67c72196e777ac0001f2140c")
    assert row["source_element"] == "value.charges.data[0]"

    multiple = DATA / "conekta_oxxo" / "order_cash_multiple.yml"
    rows = read_conekta(multiple, "conekta").to_pylist()
    # Two ways to pay one order (BBVA ATM, store network): alternatives, each for the total.
    assert [r["reference"] for r in rows] == ["10830309851141878231", "10001244873740402013"]
    assert [r["amount"] for r in rows] == [Decimal("1560.00")] * 2
    assert {r["statement_id"] for r in rows} == {"ord_2xazGvtKYTjxTUZU3"}


def _event(tmp_path: Path, kind: str, status: str, paid_at: int | None) -> Path:
    order = yaml.safe_load((DATA / "conekta_oxxo" / "order_cash.yml").read_text())["value"]
    order["charges"]["data"][0].update(status=status, paid_at=paid_at, fee=1392)
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps({"id": "evt_1", "type": kind, "data": {"object": order}}))
    return path


def test_conekta_webhook_events(tmp_path: Path) -> None:
    (paid,) = read_conekta(_event(tmp_path, "order.paid", "paid", 1741190400), "c").to_pylist()
    assert paid["status"] == "settled"
    assert paid["booked_at"] == dt.datetime(2025, 3, 5, 16, 0, tzinfo=dt.UTC)
    assert paid["value_date"] == dt.date(2025, 3, 5)  # 10:00 in Mexico City
    assert paid["fee"] == Decimal("13.92")
    assert paid["source_element"] == "data.object.charges.data[0]"
    expired = _event(tmp_path, "order.expired", "pending_payment", None)
    assert read_conekta(expired, "c")["status"].to_pylist() == ["rejected"]
    ping = tmp_path / "ping.json"
    ping.write_text('{"type": "webhook_ping", "data": {}}')
    assert read_conekta(ping, "c").num_rows == 0
    with pytest.raises(PartnerFileError, match="no charge of the order is paid"):
        read_conekta(_event(tmp_path, "order.paid", "pending_payment", None), "c")
    with pytest.raises(PartnerFileError, match="unknown charge status 'lost'"):
        read_conekta(_event(tmp_path, "order.pending_payment", "lost", None), "c")


# --- MT940 / MT942 ---------------------------------------------------------------------------


class _GoldenLoader(yaml.SafeLoader):
    """Reads mt-940's expected parses without executing their Python tags."""


def _golden_object(loader: _GoldenLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        data: dict[str, object] = {}
        yield data
        data.update(loader.construct_mapping(node, deep=True))
        return
    args = (loader.construct_sequence(node, deep=True)
            if isinstance(node, yaml.SequenceNode) else [])  # fmt: skip
    if suffix == "decimal.Decimal":
        yield Decimal(args[0])
    elif suffix == "mt940.models.Date":
        raw = args[0]
        yield dt.date(raw[0] * 256 + raw[1], raw[2], raw[3])
    else:
        yield None


for _prefix in ("object:", "object/apply:", "object/new:"):
    _GoldenLoader.add_multi_constructor(f"tag:yaml.org,2002:python/{_prefix}", _golden_object)


def _golden(path: Path) -> list[dict[str, object]]:
    data = yaml.load(path.with_suffix(".yml").read_text(), Loader=_GoldenLoader)
    return [t["data"] for t in data["transactions"]]


@pytest.mark.parametrize("name", [k for k in READ if k.startswith("mt940/") and k.endswith(".sta")])
def test_mt940_matches_the_expected_parse(name: str) -> None:
    path = DATA / name
    expected = _golden(path)
    rows = read_mt940(path, "bank").to_pylist()
    assert len(rows) == len(expected)
    for row, golden in zip(rows, expected, strict=True):
        amount = golden["amount"]["amount"]
        # The expected parses keep a reversal of a credit (RC) positive; it takes money out.
        if str(golden["status"]).upper() == "RC":
            amount = -amount
            assert row["status"] == "reversed"
        assert row["amount"] == amount, row
        assert row["value_date"] == golden["date"]
        assert row["booking_date"] == golden.get("entry_date")
        assert row["currency"] == golden["amount"]["currency"]


def test_mt940_details() -> None:
    rows = read_mt940(DATA / "mt940" / "betterplace" / "sepa_mt9401.sta", "b").to_pylist()
    reversals = [r for r in rows if r["status"] == "reversed"]
    assert [(r["amount"], r["source_line"]) for r in reversals] == [
        (Decimal("-204.88"), 19), (Decimal("-204.88"), 101),
    ]  # fmt: skip
    assert len({r["statement_id"] for r in rows}) == 26
    (feb,) = read_mt940(DATA / "mt940" / "self-provided" / "february_30.sta", "b").to_pylist()
    # Value date 30 February (a 30/360 closing entry) is read as the month's last day.
    assert (feb["value_date"], feb["booking_date"]) == (dt.date(2016, 2, 29), dt.date(2016, 3, 1))
    assert feb["amount"] == Decimal("-6.00")
    assert feb["statement_id"] == "STARTUMSE/00000/001"
    assert feb["external_id"] == "STARTUMSE/00000/001/1"
    asnb = read_mt940(DATA / "mt940" / "ASNB" / "mt940.txt", "b").to_pylist()
    assert asnb[0]["amount"] == Decimal("-65.00")
    assert asnb[0]["account"] == "NL81ASNB9999999999"
    mt942 = read_mt940(DATA / "mt940" / "mBank" / "mt942.sta", "b").to_pylist()
    assert [r["amount"] for r in mt942] == [Decimal("0.01")] * 3
    assert {r["currency"] for r in mt942} == {"PLN"}


def test_mt940_unbalanced_statement_is_a_warning_or_in_strict_mode_an_error() -> None:
    path = DATA / "mt940" / "jejik" / "knab.sta"
    table = read_mt940(path, "bank")
    (warning,) = json.loads(table.schema.metadata[WARNINGS_KEY.encode()])
    assert warning.startswith("knab.sta, line 10: statement 2 does not balance")
    with pytest.raises(PartnerFileError, match="does not balance") as caught:
        read_mt940(path, "bank", strict=True)
    assert caught.value.line == 10
    sums = read_mt940(DATA / "mt940" / "self-provided" / "mt942.sta", "bank")
    assert ":90D: says 1 entries for 2.30" in sums.schema.metadata[WARNINGS_KEY.encode()].decode()


def test_mt940_minimal_balanced_statement(tmp_path: Path) -> None:
    path = tmp_path / "pagos.sta"
    path.write_text(
        ":20:REF\r\n:25:646180157000000004\r\n:28C:7/1\r\n:60:C240101MXN100,00\r\n"
        ":61:2401020102C1234,5NTRFPAGO123//BANK1\r\n:86:abono credito 42\r\n"
        ":61:240102RD,50NTRFNONREF\r\n:62:C240102MXN1335,00\r\n-\r\n"
    )
    table = read_mt940(path, "bank")
    assert table.schema.metadata is None  # balanced: no warning
    rows = table.to_pylist()
    assert [(r["amount"], r["status"], r["reference"]) for r in rows] == [
        (Decimal("1234.5"), "settled", "PAGO123"), (Decimal("0.50"), "reversed", None),
    ]  # fmt: skip
    assert [r["source_line"] for r in rows] == [5, 7]
    assert rows[0]["booking_date"] == dt.date(2024, 1, 2)
    assert rows[0]["description"] == "abono credito 42"


def test_mt940_bad_field_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.sta"
    path.write_text(
        ":20:REF\n:25:ACC\n:28C:1\n:60F:C240101MXN100,00\n:61:241301C1,00NTRFREF\n"
        ":62F:C240101MXN200,00\n"
    )
    with pytest.raises(PartnerFileError, match=":61: does not parse") as caught:
        read_mt940(path, "bank")
    assert caught.value.line == 5
    path.write_text(":20:REF\n:25:ACC\n:28C:1\n:60F:C240101MXN100,00\n:61:2401010101C1,005N\n"
                    ":62F:C240101MXN101,005\n")  # fmt: skip
    with pytest.raises(PartnerFileError, match="more decimals than MXN"):
        read_mt940(path, "bank")


# --- camt.052 / 053 / 054 --------------------------------------------------------------------


def _moment(value: dict[str, str] | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value["0"]) if value else None


@pytest.mark.parametrize("name", [k for k in READ if k.startswith("camt/") and READ[k]])
def test_camt_matches_the_expected_parse(name: str) -> None:
    path = DATA / name
    expected = json.loads(path.with_suffix(".json").read_text())["getEntries"]
    rows = read_camt(path, "bank").to_pylist()
    if "multi.statement" not in name:
        assert len(rows) == len(expected)
    for entry in expected:
        # The expected parse counts minor units (cents) with the sign of the direction.
        amount = Decimal(entry["getAmount"]["getAmount"]) / 100
        matches = [r for r in rows if r["amount"] == amount]
        assert len(matches) == 1, (amount, rows)
        row = matches[0]
        assert row["currency"] == entry["getAmount"]["getCurrency"]["getCode"]
        assert row["status"] == {"BOOK": "settled", "PDNG": "pending"}[entry["getStatus"]]
        booked, value = _moment(entry["getBookingDate"]), _moment(entry["getValueDate"])
        if row["booked_at"] is not None:
            assert row["booked_at"] == booked
        else:
            assert row["booking_date"] == (booked.date() if booked else None)
        assert row["value_date"] == (value.date() if value else None)


def test_camt_details() -> None:
    multi = read_camt(DATA / "camt" / "camt053.v2.multi.statement.xml", "b").to_pylist()
    assert [(r["statement_id"], r["amount"]) for r in multi] == [
        ("253EURNL26VAYB8060476890", Decimal("8.85")),
        ("254EURNL26VAYB8060476890", Decimal("-7.00")),
    ]
    assert multi[1]["source_element"] == "Document/BkToCstmrStmt/Stmt[2]/Ntry"
    assert multi[1]["source_line"] == 145
    (five,) = read_camt(DATA / "camt" / "camt053.v2.five.decimals.xml", "b").to_pylist()
    assert five["amount"] == Decimal("8.850")  # written with three decimals, kept exactly
    (zero,) = read_camt(DATA / "camt" / "camt052.v6.Amt-zero.xml", "b").to_pylist()
    assert (zero["fee"], zero["status"]) == (Decimal(0), "pending")
    (minimal,) = read_camt(DATA / "camt" / "camt053.v2.minimal.xml", "b").to_pylist()
    assert minimal["reference"] == "4654654654654654"  # the structured creditor reference
    assert minimal["counterparty_account"] == "NL56AGDH9619008421"
    assert minimal["account"] == "NL26VAYB8060476890"
    (uetr,) = read_camt(DATA / "camt" / "camt054.v8-with-UETR.xml", "b").to_pylist()
    assert uetr["external_id"] == "255ae394-9965-4438-ac86-f406feada396"


_CAMT = """<?xml version="1.0" encoding="UTF-8"?>{doctype}
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId></GrpHdr>
    <Stmt>
      <Id>S1</Id>
      <Acct><Id><Othr><Id>646180157000000004</Id></Othr></Id></Acct>
      <Ntry>
        <Amt Ccy="MXN">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <RvslInd>{reversal}</RvslInd>
        <Sts>BOOK</Sts>
        <BookgDt><DtTm>2024-01-02T10:00:00</DtTm></BookgDt>
        <ValDt><Dt>2024-01-02</Dt></ValDt>
        <AddtlNtryInf>{info}</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def _camt(tmp_path: Path, amount: str = "100.50", reversal: str = "false", info: str = "pago",
          doctype: str = "") -> Path:  # fmt: skip
    path = tmp_path / "statement.xml"
    path.write_text(_CAMT.format(amount=amount, reversal=reversal, info=info, doctype=doctype))
    return path


def test_camt_local_times_and_reversals(tmp_path: Path) -> None:
    (row,) = read_camt(_camt(tmp_path, reversal="true"), "bank").to_pylist()
    # No offset: Mexico City time (UTC-6 since 2022).
    assert row["booked_at"] == dt.datetime(2024, 1, 2, 16, 0, tzinfo=dt.UTC)
    assert (row["status"], row["amount"]) == ("reversed", Decimal("100.50"))
    assert row["description"] == "pago"


def test_camt_rejects_sub_cent_mxn_and_hostile_xml(tmp_path: Path) -> None:
    with pytest.raises(PartnerFileError, match="more decimals than MXN") as caught:
        read_camt(_camt(tmp_path, amount="100.505"), "bank")
    assert caught.value.element == "Document/BkToCstmrStmt/Stmt/Ntry/Amt"
    assert caught.value.line == 9
    laughs = '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    with pytest.raises(PartnerFileError, match="DOCTYPE"):
        read_camt(_camt(tmp_path, info="&b;", doctype=laughs), "bank")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
    with pytest.raises(PartnerFileError) as caught:
        read_camt(_camt(tmp_path, info="&x;", doctype=xxe), "bank")
    assert "TOP SECRET" not in str(caught.value)
    (tmp_path / "statement.xml").write_text("<Document><unclosed></Document>")
    with pytest.raises(PartnerFileError, match="not well-formed XML") as caught:
        read_camt(tmp_path / "statement.xml", "bank")
    assert caught.value.line == 1


# --- generic CSV -----------------------------------------------------------------------------

_MAPPING = """\
rail: spei
columns:
  external_id: Folio
  value_date: Fecha
  booked_at: Hora
  amount: Importe
  fee: Comision
  reference: Referencia
  counterparty_account: CLABE
  status: Estatus
currency: MXN
date_format: "%d/%m/%Y"
datetime_format: "%d/%m/%Y %H:%M"
decimal_separator: ","
thousands_separator: "."
delimiter: ";"
status_map:
  LIQUIDADO: settled
  DEVUELTO: returned
"""

_CSV = '''\
Folio;Fecha;Hora;Importe;Comision;Referencia;CLABE;Estatus
F-1;02/01/2024;02/01/2024 09:30;1.234,56;3,48;"ref ""A""";646180157000000004;LIQUIDADO
F-2;03/01/2024;03/01/2024 18:05;-50,00;;"two
lines";646180157000000005;DEVUELTO

F-3;04/01/2024;;10;0;;;LIQUIDADO
'''


def _csv_files(tmp_path: Path, csv_text: str = _CSV, mapping: str = _MAPPING) -> tuple[Path, Path]:
    (tmp_path / "pagos.csv").write_text(csv_text, encoding="utf-8")
    (tmp_path / "mapping.yml").write_text(mapping, encoding="utf-8")
    return tmp_path / "pagos.csv", tmp_path / "mapping.yml"


def test_csv_with_a_yaml_mapping(tmp_path: Path) -> None:
    csv_path, mapping = _csv_files(tmp_path)
    rows = read_csv(csv_path, "banco", mapping).to_pylist()
    assert [r["external_id"] for r in rows] == ["F-1", "F-2", "F-3"]
    assert [r["amount"] for r in rows] == [Decimal("1234.56"), Decimal("-50.00"), Decimal(10)]
    assert [r["fee"] for r in rows] == [Decimal("3.48"), None, Decimal(0)]
    assert [r["status"] for r in rows] == ["settled", "returned", "settled"]
    assert [r["source_line"] for r in rows] == [2, 3, 6]  # the quoted newline spans lines 3-4
    assert rows[0]["reference"] == 'ref "A"'
    assert rows[0]["booked_at"] == dt.datetime(2024, 1, 2, 15, 30, tzinfo=dt.UTC)
    assert rows[0]["value_date"] == dt.date(2024, 1, 2)
    assert [r["counterparty_account_valid"] for r in rows] == [True, False, None]
    assert rows[2]["booked_at"] is None
    assert read_partner_file(csv_path, "banco", mapping=mapping).num_rows == 3
    with pytest.raises(ConfigError, match="needs a column mapping"):
        read_partner_file(csv_path, "banco")


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("  DEVUELTO: returned", "  DEVUELTO: bounced", 19, "status_map.DEVUELTO"),
        ("rail: spei", "rail: pigeon", 1, "rail"),
        ("currency: MXN\n", "", 1, "give either columns.currency or a constant currency"),
        ('delimiter: ";"', 'delimiter: ";"\nseparator: x', 17, "separator: Extra inputs"),
        ("  amount: Importe\n", "", 3, "columns.amount: Field required"),
        ("timezone", "timezone", 1, "x"),  # placeholder replaced below
    ],
)
def test_csv_mapping_errors_name_the_yaml_line(
    tmp_path: Path, old: str, new: str, line: int, reason: str
) -> None:
    mapping = _MAPPING.replace(old, new)
    if old == "timezone":
        mapping, line, reason = _MAPPING + "timezone: Mars/Olympus\n", 20, "unknown time zone"
    _, path = _csv_files(tmp_path, mapping=mapping)
    with pytest.raises(ConfigError) as caught:
        load_csv_mapping(path)
    assert str(caught.value).startswith(f"mapping.yml, line {line}: "), str(caught.value)
    assert reason in str(caught.value)


def test_csv_mapping_keeps_partner_codes_as_written(tmp_path: Path) -> None:
    # YAML 1.1 would read NO as False and 010 as octal 8; the CSV holds the text.
    mapping = _MAPPING.replace("  DEVUELTO: returned", "  NO: returned\n  010: rejected")
    csv_path, path = _csv_files(tmp_path, mapping=mapping)
    assert load_csv_mapping(path).status_map == {
        "LIQUIDADO": "settled", "NO": "returned", "010": "rejected",
    }  # fmt: skip
    (csv_path.parent / "pagos.csv").write_text(_CSV.replace("DEVUELTO", "NO"))
    assert read_csv(csv_path, "banco", path)["status"].to_pylist()[1] == "returned"


def test_csv_mapping_syntax_error_names_the_line(tmp_path: Path) -> None:
    _, path = _csv_files(tmp_path, mapping=_MAPPING + "status_map: [unclosed\n")
    with pytest.raises(ConfigError, match=r"mapping.yml, line \d+: not valid YAML"):
        load_csv_mapping(path)


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("03/01/2024;03", "31/02/2024;03", 3, "does not match '%d/%m/%Y'"),
        ("DEVUELTO\n", "PERDIDO\n", 3, "status 'PERDIDO' is not in status_map"),
        ("F-3;", "F-1;", 6, "already on line 2"),
        (";10;", ";10.5;", 6, "is not a number written with decimal separator ','"),
        (";10;", ";1,2,3;", 6, "is not a number written with"),
        (";10;", ";;", 6, "empty 'Importe'"),
        ("\nF-3;04/01/2024;;10;0;;;LIQUIDADO", "\nF-3;04/01/2024", 6, "2 fields where"),
        ("Referencia;", "Ref;", 1, "column 'Referencia' (mapping columns.reference)"),
    ],
)
def test_csv_bad_rows_name_the_csv_line(
    tmp_path: Path, old: str, new: str, line: int, reason: str
) -> None:
    csv_path, mapping = _csv_files(tmp_path, csv_text=_CSV.replace(old, new))
    with pytest.raises(PartnerFileError) as caught:
        read_csv(csv_path, "banco", mapping)
    assert (caught.value.file, caught.value.line) == ("pagos.csv", line)
    assert reason in caught.value.reason


@given(
    cents=st.integers(min_value=-(10**14), max_value=10**14),
    separators=st.sampled_from([(".", ""), (".", ","), (",", "."), (",", " "), (",", "")]),
)
def test_csv_amounts_round_trip_exactly(cents: int, separators: tuple[str, str]) -> None:
    decimal_sep, thousands_sep = separators
    mapping = CsvMapping.model_validate({
        "rail": "spei", "columns": {"external_id": "id", "amount": "amount"}, "currency": "MXN",
        "decimal_separator": decimal_sep, "thousands_separator": thousands_sep,
    })  # fmt: skip
    amount = Decimal(cents).scaleb(-2)
    text = f"{abs(amount):,.2f}".replace(",", "\0").replace(".", decimal_sep)
    text = ("-" if amount < 0 else "") + text.replace("\0", thousands_sep)
    from cobranza.payments.readers._csv import _amount

    assert _amount(Path("x.csv"), mapping, text, "MXN", 2, "amount") == amount


def test_partner_file_error_survives_pickling() -> None:
    # Errors cross process boundaries when files are read in a worker pool.
    import pickle

    error = PartnerFileError("a.xml", "bad", line=3, element="Document/X")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file, copy.line, copy.element, str(copy)) == (
        "a.xml", 3, "Document/X", "a.xml, line 3, element Document/X: bad",
    )  # fmt: skip
    assert isinstance(copy, ValueError)
