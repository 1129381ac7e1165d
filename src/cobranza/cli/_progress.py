"""Rich progress bars for long steps."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


@contextlib.contextmanager
def progress_bar(title: str) -> Iterator[Callable[[str, float], None]]:
    """A progress bar; yields the ``progress(step, fraction)`` callback the library calls."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[step]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(title, total=1.0, step="")

        def update(step: str, fraction: float) -> None:
            bar.update(task, completed=fraction, step=step)

        yield update
