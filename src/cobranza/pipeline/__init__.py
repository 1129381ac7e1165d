"""The nightly pipeline over the whole loan book."""

from cobranza.pipeline._outputs import atomic_directory
from cobranza.pipeline._run import RUN_OUTPUTS, RunResult, run

__all__ = ["RUN_OUTPUTS", "RunResult", "atomic_directory", "run"]
