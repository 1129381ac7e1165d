"""The nightly pipeline over the whole loan book, and the end-to-end demo."""

from cobranza.pipeline._demo import DEMO_AS_OF, DemoResult, demo
from cobranza.pipeline._run import RUN_OUTPUTS, RunResult, run
from cobranza.pipeline._stages import PROVISION_OUTPUTS

__all__ = [
    "DEMO_AS_OF",
    "PROVISION_OUTPUTS",
    "RUN_OUTPUTS",
    "DemoResult",
    "RunResult",
    "demo",
    "run",
]
