"""Reports a person reads: ``report.html``, the self-contained page of a run."""

from cobranza.reports._provisions_section import render_provisions_section
from cobranza.reports._run_report import REPORT_NAME, write_run_report

__all__ = ["REPORT_NAME", "render_provisions_section", "write_run_report"]
