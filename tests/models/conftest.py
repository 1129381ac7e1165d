"""Models trained once per test session on the real UCI data (30,000 card accounts)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sklearn.model_selection import train_test_split

from cobranza.engine import DuckDBEngine
from cobranza.models import UCI_TARGET, TrainingResult, TrainingSpec, train_models, uci_features
from cobranza.models._uci import UCI_PATH

UCI_SPEC = TrainingSpec(name="uci_default", target=UCI_TARGET, holdout=0.3, random_state=42)


@pytest.fixture(scope="session")
def uci_table() -> pa.Table:
    if not UCI_PATH.exists():
        pytest.skip(f"the UCI data is not at {UCI_PATH}")
    with DuckDBEngine() as eng:
        return eng.fetch(uci_features(eng, UCI_PATH))


@pytest.fixture(scope="session")
def uci_models(uci_table: pa.Table) -> TrainingResult:
    return train_models(UCI_SPEC, uci_table)


@pytest.fixture(scope="session")
def uci_holdout(uci_table: pa.Table) -> pa.Table:
    """The 30 % stratified hold-out (random_state 42): the rows training did not see."""
    frame = uci_table.to_pandas()
    _, holdout = train_test_split(frame, test_size=0.3, stratify=frame[UCI_TARGET], random_state=42)
    return pa.Table.from_pandas(holdout, preserve_index=False)
