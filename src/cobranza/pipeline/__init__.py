"""The nightly pipeline over the whole loan book."""

from cobranza.pipeline._run import RUN_OUTPUTS, RunResult, run

__all__ = ["RUN_OUTPUTS", "RunResult", "run"]
