"""Report blocks (:mod:`._views`) as one self-contained HTML page.

The page fetches nothing: the style sheet is inline, the plots are PNGs in
``data:`` URIs, and there is no script.  It opens the same from a laptop, a
CI artifact or an e-mail attachment.
"""

from __future__ import annotations

import base64
import html

from ._blocks import Bars, Claims, Figure, Lines, Table, Timelines, fmt_time
from ._views import TIMELINE_STORY

__all__ = ["fragment", "page", "timeline_svg"]

_CSS = """
:root { --fg:#1d2330; --muted:#5b6473; --line:#d9dee7; --good:#1b7f3b; --bad:#b42318;
        --unknown:#8a6d00; --bg:#ffffff; --panel:#f6f8fb; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 32px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
p.sub { color: var(--muted); margin: 2px 0; }
.claims { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
          gap: 14px; margin: 16px 0 6px; }
.claim { background: var(--panel); border-radius: 10px; padding: 14px 16px;
         border-left: 6px solid var(--unknown); }
.claim.holds { border-left-color: var(--good); }
.claim.unmeasurable { border-left-color: var(--muted); }
.claim.unmeasurable .badge { background: var(--muted); }
.claim.fails { border-left-color: var(--bad); }
.claim .badge { display: inline-block; font-size: 12px; font-weight: 700;
                letter-spacing: .04em; color: #fff; background: var(--unknown);
                border-radius: 4px; padding: 1px 7px; }
.claim.holds .badge { background: var(--good); }
.claim.fails .badge { background: var(--bad); }
.claim h3 { font-size: 16px; margin: 8px 0 6px; }
.claim p { margin: 0; color: var(--muted); font-size: 14px; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 13.5px; }
caption { text-align: left; font-weight: 600; padding: 6px 0; font-size: 15px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: var(--panel); text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.good td { color: var(--good); font-weight: 600; }
tr.bad td { color: var(--bad); }
tr.dim td { color: var(--muted); }
tr.section td { border-top: 2px solid var(--line); }
.tablewrap { overflow-x: auto; max-width: 100%; }
.tablewrap.compact { display: inline-block; vertical-align: top; width: calc(50% - 16px);
                     margin-right: 12px; }
.tablewrap.compact table { width: 100%; font-size: 13px; }
.tablewrap.compact th, .tablewrap.compact td { padding: 3px 6px; }
.note { color: var(--muted); font-size: 13px; margin: 2px 0; white-space: normal; }
svg.bars { display: block; margin: 10px 0; max-width: 100%; }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 4px; }
pre { background: var(--panel); padding: 10px 12px; border-radius: 6px; font-size: 12.5px;
      white-space: pre-wrap; }
.timelines { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr));
             gap: 12px; margin: 12px 0 6px; }
.panel { background: var(--panel); border-radius: 8px; padding: 8px 10px 6px; }
.panel h3 { font-size: 14px; margin: 0; }
.panel p { margin: 0 0 4px; color: var(--muted); font-size: 12.5px; }
.panel svg { display: block; width: 100%; height: auto; }
.panel .ov { font-weight: 700; color: var(--fg); }
details summary { cursor: pointer; font-weight: 600; margin: 10px 0; }
"""

_BADGE = {"holds": "HOLDS", "fails": "DOES NOT HOLD HERE", "unknown": "NOT CHECKED",
          "unmeasurable": "NOT MEASURABLE HERE"}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, subtitle: list, blocks, figures: dict) -> str:
    """The whole HTML document.

    Parameters
    ----------
    title : str
        The page's heading.
    subtitle : list of str
        Lines under the heading.
    blocks : list
        Report blocks from :mod:`._views`.
    figures : dict
        Figure name -> PNG bytes (a missing or None figure is left out).
    """
    body = [f"<h1>{_e(title)}</h1>"] + [f'<p class="sub">{_e(s)}</p>' for s in subtitle]
    for b in blocks:
        body.append(_block(b, figures))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def fragment(blocks) -> str:
    """Blocks without figures as HTML, to put inside another page (a notebook cell)."""
    return "".join(_block(b, {}) for b in blocks)


def _block(b, figures) -> str:
    if isinstance(b, Lines):
        head = f"<h2>{_e(b.title)}</h2>" if b.title else ""
        if b.title and len(b.lines) > 2:
            return head + "<pre>" + _e("\n".join(b.lines)) + "</pre>"
        return head + "".join(f'<p class="note">{_e(line)}</p>' for line in b.lines)
    if isinstance(b, Claims):
        cards = "".join(
            f'<div class="claim {s}"><span class="badge">{_BADGE[s]}</span>'
            f"<h3>{_e(claim)}</h3><p>{_e(ev)}</p></div>" for s, claim, ev in b.items)
        notes = "".join(f'<p class="note">{_e(n)}</p>' for n in b.notes)
        return f"<h2>{_e(b.title)}</h2><div class=\"claims\">{cards}</div>{notes}"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Bars):
        return _bars(b)
    if isinstance(b, Timelines):
        return _timelines(b)
    if isinstance(b, Figure):
        png = figures.get(b.name)
        if not png:
            return ""
        data = base64.b64encode(png).decode("ascii")
        return (f'<figure><img alt="{_e(b.name)} plot" src="data:image/png;base64,{data}">'
                f"<figcaption>{_e(b.caption)}</figcaption></figure>")
    raise TypeError(f"unknown report block {type(b).__name__}")


def _table(t: Table) -> str:
    cls = ['' if i < t.text_cols else ' class="num"' for i in range(len(t.columns))]
    head = "".join(f"<th{cls[i]}>{_e(c)}</th>" for i, c in enumerate(t.columns))
    rows = []
    for k, r in enumerate(t.rows):
        style = t.row_styles[k] if k < len(t.row_styles) else None
        classes = " ".join(c for c in (style, "section" if k and k in t.sections else None) if c)
        attr = f' class="{classes}"' if classes else ""
        rows.append(f"<tr{attr}>" + "".join(f"<td{cls[i]}>{_e(c)}</td>"
                                            for i, c in enumerate(r)) + "</tr>")
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in t.notes)
    caption = f'<p class="note">{_e(t.caption)}</p>' if t.caption else ""
    compact = " compact" if len(t.columns) <= 6 else ""
    return (f'<div class="tablewrap{compact}"><table><caption>{_e(t.title.strip("= "))}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"{caption}{notes}</div>")


#: Bar colours by style (the page's --good, and muted tones).
_FILL = {"good": "#1b7f3b", "bad": "#d9897f", "dim": "#aab2bf"}


def _bars(b: Bars) -> str:
    """A bar chart as inline SVG: it needs no style sheet (a notebook cell too)."""
    top = max([v for _, v, _, _ in b.items] + [m for m, _ in b.marks]) * 1.05 or 1.0
    h = 22 * len(b.items) + 6
    out = [f"<h2>{_e(b.title)}</h2>" if b.title else "",
           f'<svg class="bars" width="760" height="{h}" '
           f'role="img" aria-label="{_e(b.title)}">']
    for i, (label, value, text, style) in enumerate(b.items):
        y, w = 4 + 22 * i, 380 * value / top
        out.append(f'<text x="0" y="{y + 13}" font-size="13">{_e(label)}</text>'
                   f'<rect x="200" y="{y}" width="{w:.1f}" height="16" rx="3" '
                   f'fill="{_FILL.get(style or "", "#8aa4c8")}"/>'
                   f'<text x="{206 + w:.1f}" y="{y + 13}" font-size="13">{_e(text)}</text>')
    for m, name in b.marks:
        x = 200 + 380 * m / top
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{h}" stroke="#1d2330" '
                   f'stroke-dasharray="4,3"><title>{_e(name)}</title></line>')
    out.append("</svg>")
    if b.caption:
        out.append(f'<p class="note">{_e(b.caption)}</p>')
    return "".join(out)


#: Geometry of a timeline panel's SVG, in its own units (it scales to the panel).
_SVG_W, _ROW_H, _LABEL_W, _AXIS_H = 200, 20, 24, 16


def timeline_svg(threads, span) -> str:
    """One strategy's timeline as inline SVG: a row per thread, a filled band
    where it ran, and a time axis."""
    lo, hi = span
    width = hi - lo
    inner = _SVG_W - _LABEL_W - 4
    height = len(threads) * _ROW_H + _AXIS_H
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_SVG_W} {height}" '
           f'role="img" aria-label="timeline of {len(threads)} workers">']
    for k, t in enumerate(threads):
        y = k * _ROW_H
        out.append(f'<text x="0" y="{y + 14}" font-size="12" fill="#5b6473">{_e(t["name"])}</text>'
                   f'<rect x="{_LABEL_W}" y="{y + 2}" width="{inner}" height="{_ROW_H - 4}" '
                   f'fill="#e3e8ef"/>')
        for a, b in t["running"]:
            a, b = max(a, lo), min(b, hi)
            if b <= a or width <= 0:
                continue
            x = _LABEL_W + inner * (a - lo) / width
            w = max(inner * (b - a) / width, 0.5)
            out.append(f'<rect x="{x:.2f}" y="{y + 2}" width="{w:.2f}" height="{_ROW_H - 4}" '
                       f'fill="#2f6db5"/>')
    y = len(threads) * _ROW_H + 11
    out.append(f'<text x="{_LABEL_W}" y="{y}" font-size="10" fill="#5b6473">0</text>'
               f'<text x="{_SVG_W - 2}" y="{y}" font-size="10" fill="#5b6473" '
               f'text-anchor="end">{_e(fmt_time(width))}</text></svg>')
    return "".join(out)


def _timelines(b: Timelines) -> str:
    head = f"<h2>{_e(b.title)}</h2>"
    if not b.panels:
        return head + f'<p class="note">No timeline: {_e(b.reason or "none was recorded")}</p>'
    cells = []
    for name, overlap, threads, span in b.panels:
        ov = f"{overlap:.0%}" if overlap is not None else "-"
        cells.append(f'<div class="panel"><h3>{_e(name)}</h3>'
                     f'<p>overlap <span class="ov">{_e(ov)}</span>: '
                     f'{_e(TIMELINE_STORY.get(name, ""))}</p>{timeline_svg(threads, span)}</div>')
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in b.notes)
    return head + f'<div class="timelines">{"".join(cells)}</div>' + notes
