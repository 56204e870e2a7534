"""Report blocks (:mod:`._views`) printed on a terminal: rich, or plain text."""

from __future__ import annotations

from .._timeline import EMPTY, FULL
from ._blocks import Bars, Claims, Figure, Lines, Table, Timelines
from ._views import TIMELINE_STORY, timeline_rows

__all__ = ["print_blocks"]

_MARK = {"holds": "HOLDS", "fails": "DOES NOT HOLD HERE", "unknown": "NOT CHECKED",
         "unmeasurable": "NOT MEASURABLE HERE"}
_RICH_STYLE = {"good": "green", "bad": "red", "dim": "dim", "bold": "bold", "error": "red",
               "holds": "bold green", "fails": "bold red", "unknown": "yellow",
               "unmeasurable": "bold yellow"}

#: Characters of the longest bar.
BAR_WIDTH = 36

#: Block characters per timeline row, and rows shown per strategy.
STRIP_WIDTH = 40
STRIP_ROWS = 2


def print_blocks(blocks, file, use_rich: bool) -> None:
    """Print `blocks` on `file` with rich (colours, box tables) or as plain text."""
    if use_rich:
        _rich(blocks, file)
    else:
        out = file.write
        for i, b in enumerate(blocks):
            if i and isinstance(b, (Table, Bars, Claims, Timelines)):
                out("\n")
            for line in _plain(b):
                out(line.rstrip() + "\n")


# ---------------------------------------------------------------------------
# plain text
# ---------------------------------------------------------------------------


def _plain(b) -> list:
    if isinstance(b, Lines):
        return ([b.title] if b.title else []) + list(b.lines)
    if isinstance(b, Claims):
        width = max(len(m) for m in _MARK.values())
        return ([b.title] + [f"  {_MARK[s]:<{width}}  {claim}: {ev}" for s, claim, ev in b.items]
                + [f"  {n}" for n in b.notes])
    if isinstance(b, Table):
        return _plain_table(b)
    if isinstance(b, Bars):
        return [b.title] + _bar_lines(b, lambda text, style: text)
    if isinstance(b, Timelines):
        return _timeline_lines(b)
    if isinstance(b, Figure):
        return []
    raise TypeError(f"unknown report block {type(b).__name__}")


def _timeline_lines(b: Timelines) -> list:
    """Two or more lines per strategy: ``name  overlap  T1 ████░░░░``."""
    if not b.panels:
        return [b.title, f"  no timeline: {b.reason or 'none was recorded'}"]
    width = max(len(name) for name, _, _, _ in b.panels)
    out = [b.title]
    for panel in b.panels:
        name, overlap, threads, _ = panel
        rows = timeline_rows(panel, STRIP_WIDTH, STRIP_ROWS)
        head = [f"{name:<{width}}", "overlap " + (f"{overlap:4.0%}" if overlap is not None
                                                  else "   -")]
        more = len(threads) - len(rows)
        for k, (tname, strip) in enumerate(rows):
            left = "  ".join(head) if k == 0 else " " * (width + 14)
            story = f"  {TIMELINE_STORY.get(name, '')}" if k == 0 else ""
            if k == len(rows) - 1 and more > 0:
                story += f"  (+{more} more rows in the JSON and the HTML report)"
            out.append(f"  {left}  {tname:<3} {strip}{story}")
    out += [f"  {n}" for n in b.notes]
    return out


def _plain_table(t: Table) -> list:
    cols, rows = t.columns, t.rows
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]

    def line(cells):
        return "  ".join(c.ljust(widths[i]) if i < t.text_cols else c.rjust(widths[i])
                         for i, c in enumerate(cells))

    out = [t.title, line(cols), "  ".join("-" * x for x in widths)]
    for i, r in enumerate(rows):
        if i and i in t.sections:
            out.append("")
        out.append(line(r))
    if t.caption:
        out.append(t.caption)
    out += [f"  note: {n}" for n in t.notes]
    return out


def _bar_lines(b: Bars, paint, full="#", half="+") -> list:
    top = max([v for _, v, _, _ in b.items] + [m for m, _ in b.marks]) * 1.05
    scale = BAR_WIDTH / top if top > 0 else 0
    width = max(len(label) for label, _, _, _ in b.items)
    marks = {round(m * scale) for m, _ in b.marks}
    out = []
    for label, value, text, style in b.items:
        frac = value * scale
        cells = int(frac)
        bar = full * cells + (half if frac - cells >= 0.5 else "")
        track = "".join("|" if k in marks and k >= len(bar) else " "
                        for k in range(len(bar), BAR_WIDTH + 1))
        out.append(f"  {label:<{width}}  {paint(bar, style) if bar else ''}{track} {text}")
    if b.caption:
        out.append(b.caption)
    return out


# ---------------------------------------------------------------------------
# rich
# ---------------------------------------------------------------------------


def _rich(blocks, file) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    console = Console(file=file, width=None if file.isatty() else 200, highlight=False,
                      soft_wrap=not file.isatty())
    for i, b in enumerate(blocks):
        if isinstance(b, Lines):
            if b.title:
                console.print(b.title, style="bold", markup=False)
            for line in b.lines:
                console.print(line, style=_RICH_STYLE.get(b.style or ""), markup=False)
        elif isinstance(b, Claims):
            console.print()
            console.print(b.title, style="bold", markup=False)
            for status, claim, ev in b.items:
                t = Text("  ")
                t.append(f"{_MARK[status]:<19}", style=_RICH_STYLE[status])
                t.append(f"  {claim}: ", style="bold")
                t.append(ev)
                console.print(t)
            for n in b.notes:
                console.print(f"  {n}", style="yellow", markup=False)
            console.print()
        elif isinstance(b, Table):
            table = RichTable(title=b.title.strip("= "), box=box.SIMPLE_HEAD,
                              title_justify="left", title_style="bold", caption=b.caption,
                              caption_justify="left", pad_edge=False, show_edge=False)
            for k, c in enumerate(b.columns):
                table.add_column(c, justify="left" if k < b.text_cols else "right",
                                 no_wrap=True, style="bold" if c == "speedup" else None)
            for k, r in enumerate(b.rows):
                if k and k in b.sections:
                    table.add_section()
                style = b.row_styles[k] if k < len(b.row_styles) else None
                table.add_row(*r, style=_RICH_STYLE.get(style or ""))
            console.print(table)
            for n in b.notes:
                console.print(f"  note: {n}", markup=False,
                              style="red" if n.startswith("FAILED") else "dim")
        elif isinstance(b, Bars):
            console.print()
            console.print(b.title, style="bold", markup=False)

            def paint(text, style):
                return f"\0{style}\0{text}\0"

            for line in _bar_lines(b, paint, "\u2588", "\u258c"):
                t = Text()
                for k, part in enumerate(line.split("\0")):
                    if k % 3 == 0:
                        t.append(part)
                    elif k % 3 == 2:
                        t.append(part, style=_RICH_STYLE.get(line.split("\0")[k - 1]))
                console.print(t)
        elif isinstance(b, Timelines):
            lines = _timeline_lines(b)
            console.print(lines[0], style="bold", markup=False)
            for line in lines[1:]:
                strip = FULL in line or EMPTY in line
                console.print(line, markup=False, style=None if strip else "dim")
        elif isinstance(b, Figure):
            continue
        else:
            raise TypeError(f"unknown report block {type(b).__name__}")
