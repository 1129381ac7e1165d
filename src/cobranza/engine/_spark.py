"""PySpark, for books that outgrow one machine; local mode in tests."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from cobranza._errors import EngineError
from cobranza.engine._base import ROW_COLUMN, Engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def local_session(cores: int = 2, memory: str = "4g") -> SparkSession:
    """A local Spark session configured as the pipeline expects (time zone, Parquet types)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineError("the Spark engine needs PySpark: pip install 'cobranza[spark]'") from exc
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("cobranza")
        .config("spark.sql.session.timeZone", Engine.TIME_ZONE)
        .config("spark.driver.memory", memory)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )


class SparkEngine(Engine):
    """Runs compiled SQL on a Spark session.

    Parameters
    ----------
    session:
        An existing ``SparkSession``; by default a local one is started with ``cores`` workers.
    cores:
        Local worker threads when no session is given.
    """

    name = "spark"
    dialect = "pyspark"

    def __init__(self, session: SparkSession | None = None, cores: int = 2) -> None:
        # Ibis's PySpark compiler reads ``ibis.options.pyspark``, which exists only once Ibis
        # has loaded its PySpark backend (attribute access registers its options); without it
        # float columns in subqueries fail to compile.
        _ = ibis.pyspark

        self.cores = cores
        self._owns_session = session is None
        self.spark = session if session is not None else local_session(cores)
        self.spark.conf.set("spark.sql.session.timeZone", self.TIME_ZONE)
        self._views: set[str] = set()

    def _df(self, sql: str) -> Any:
        from pyspark.errors import PySparkException

        try:
            return self.spark.sql(sql)
        except PySparkException as exc:
            raise EngineError(f"Spark failed: {exc}") from exc

    def register_file(self, name: str, path: Path) -> None:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        suffix = path.suffix.lower()
        reader = self.spark.read
        if suffix == ".csv":
            df = (
                reader.option("header", True)
                .option("inferSchema", False)
                .option("escape", '"')
                .option("mode", "PERMISSIVE")
                .option("encoding", "UTF-8")
                .csv(str(path))
            )
        elif suffix == ".parquet":
            df = reader.parquet(str(path))
        else:
            raise EngineError(f"{path}: unsupported file type {suffix!r}")
        # monotonically_increasing_id grows with partition index and offset, so ordering by it
        # is file order; row_number then gives the file's data row.
        order = Window.orderBy(F.monotonically_increasing_id())
        df = df.select(F.row_number().over(order).alias(ROW_COLUMN), "*")
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)
        self._views.add(name)

    def schema(self, name: str) -> ibis.Schema:
        arrow = self.spark.table(_ident(name)).limit(0).toArrow()
        return ibis.Schema.from_pyarrow(arrow.schema)

    def create_view(self, name: str, expr: ibis.Expr) -> None:
        self._df(self.to_sql(expr)).createOrReplaceTempView(name)
        self._views.add(name)

    def materialize(self, name: str, expr: ibis.Expr) -> None:
        df = self._df(self.to_sql(expr)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def write_parquet(self, expr: ibis.Expr, path: Path) -> None:
        # Spark writes a folder of part files; one partition gives one file, moved into place so
        # both engines leave the same layout.
        df = self._df(self.to_sql(expr)).coalesce(1)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".spark-") as tmp:
            target = Path(tmp) / "out"
            df.write.mode("overwrite").option("compression", "zstd").parquet(str(target))
            parts = sorted(target.glob("part-*.parquet"))
            if len(parts) != 1:
                raise EngineError(f"Spark wrote {len(parts)} part files for {path.name}")
            shutil.move(str(parts[0]), path)

    def fetch(self, expr: ibis.Expr, limit: int | None = None) -> pa.Table:
        df = self._df(self.to_sql(expr))
        if limit is not None:
            df = df.limit(int(limit))
        return df.toArrow()

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def close(self) -> None:
        for name in list(self._views):
            self.drop(name)
        if self._owns_session:
            self.spark.stop()
