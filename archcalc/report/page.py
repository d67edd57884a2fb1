"""`archcalc report`: one self-contained HTML page (every style and script inline, nothing fetched)
holding the totals, the graph drawing, the table (blocks fold and unfold, columns sort, a number
shows its arithmetic on hover or tap), per-layer plots and the warnings; and the same side by side
for several networks. `fragment` is the part a notebook shows."""

from __future__ import annotations

from dataclasses import replace

from ..analysis import LayerRecord, Report
from ..draw.svg import markup
from ..units import count, exact, nbytes
from .table import Table

_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.88em}
th,td{padding:.2em .5em;border-bottom:1px solid #e3e3e3;white-space:nowrap}
th{border-bottom:2px solid #333;cursor:pointer;user-select:none;text-align:left;white-space:normal;
vertical-align:bottom}
th.num,td.num{text-align:right}th[data-dir=asc]::after{content:" ▲"}th[data-dir=desc]::after{content:" ▼"}
tr.group td{background:#eef7f6;font-weight:600}tr[hidden]{display:none}
button.tog{border:0;background:none;cursor:pointer;width:1.4em;padding:0;font-size:1em}
td[data-a]{cursor:help;text-decoration:underline dotted #999}
#tip{position:absolute;display:none;background:#222;color:#fff;padding:.4em .6em;border-radius:4px;
font:12px/1.4 monospace;max-width:40em;white-space:pre-wrap;z-index:9;pointer-events:none}
.main{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:0 1.5em;align-items:start}
.graph{position:sticky;top:0;max-width:34vw}.drawing{max-height:92vh;overflow:auto;border:1px solid #ddd;padding:4px}
.scroll{overflow-x:auto;max-width:100%}.plots{display:flex;flex-wrap:wrap;gap:1em}
@media (max-width:1100px){.main{grid-template-columns:minmax(0,1fr)}.graph{position:static;max-width:100%}}
dl.totals{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15em 1.2em}dt{color:#555}
dd{margin:0;font-variant-numeric:tabular-nums}ul.warn li{color:#8a4b00}
.network{border-top:3px solid #2a7a75;margin-top:2.5em}"""

_SCRIPT = """(function(){
const tip=document.getElementById('tip');
document.querySelectorAll('table.layers').forEach(function(table){
  const body=table.tBodies[0];
  const rows=Array.from(body.rows);
  const byPath={};rows.forEach(function(r){byPath[r.dataset.path]=r;});
  const children={};rows.forEach(function(r){(children[r.dataset.parent]=children[r.dataset.parent]||[]).push(r);});
  function kids(path){return (children[path]||[]).slice();}
  function shown(r){let p=r.dataset.parent;
    while(p){const up=byPath[p];if(!up.classList.contains('open'))return false;p=up.dataset.parent;}
    return true;}
  function refresh(){rows.forEach(function(r){r.hidden=!shown(r);});}
  rows.forEach(function(r){const b=r.querySelector('button.tog');if(!b)return;
    b.addEventListener('click',function(){const open=!r.classList.contains('open');r.classList.toggle('open',open);
      b.textContent=open?'\\u25BE':'\\u25B8';b.setAttribute('aria-expanded',String(open));refresh();});});
  Array.from(table.tHead.rows[0].cells).forEach(function(th,col){th.addEventListener('click',function(){
    const dir=th.dataset.dir==='asc'?'desc':'asc';
    Array.from(table.tHead.rows[0].cells).forEach(function(h){delete h.dataset.dir;});th.dataset.dir=dir;
    const sign=dir==='asc'?1:-1;
    function key(r){const c=r.cells[col];return c.dataset.v!==undefined?parseFloat(c.dataset.v):c.textContent;}
    function cmp(a,b){const x=key(a),y=key(b);return sign*(typeof x==='number'?x-y:String(x).localeCompare(String(y)));}
    function ordered(parent){let out=[];
      kids(parent).sort(cmp).forEach(function(r){out.push(r);out=out.concat(ordered(r.dataset.path));});
      return out;}
    ordered('').forEach(function(r){body.appendChild(r);});});});
  refresh();
});
function show(cell){tip.textContent=cell.dataset.a;tip.style.display='block';const b=cell.getBoundingClientRect();
  tip.style.left=(window.scrollX+b.left)+'px';tip.style.top=(window.scrollY+b.bottom+4)+'px';}
document.addEventListener('mouseover',function(e){const c=e.target.closest('td[data-a]');if(c)show(c);});
document.addEventListener('mouseout',function(e){if(e.target.closest('td[data-a]'))tip.style.display='none';});
document.addEventListener('click',function(e){const c=e.target.closest('td[data-a]');
  if(c)show(c);else if(!e.target.closest('button'))tip.style.display='none';});
})();"""

_COLUMNS = (("layer", False), ("type", False), ("hyper-parameters", False), ("output (C×H×W)", False),
            ("params", True), ("MACs", True), ("memory (bytes)", True), ("receptive field", True))
_MAX_BOXES = 140  # the drawing folds blocks until it has at most this many boxes
_MAX_ROWS = 5_000  # the table unfolds blocks down to the depth where it has at most this many rows


def _cell(text: str, value: float | None = None, arithmetic: str = "") -> str:
    extra = "" if value is None else f' class="num" data-v="{value}"'
    extra += f' data-a="{markup(arithmetic)}"' if arithmetic else ""
    return f"<td{extra}>{markup(text)}</td>"


def _sum_text(values: list[int]) -> str:
    shown = " + ".join(exact(v) for v in values[:12]) + (" + …" if len(values) > 12 else "")
    return f"{shown} = {exact(sum(values))}"


def _layer_row(record: LayerRecord, parent: str) -> str:
    from ..draw.diagram import hyper_text, shape_text

    maths = record.arithmetic()
    field = record.receptive_field
    memory = record.activation_bytes if record.allocates else 0
    cells = [
        f'<td style="padding-left:{0.6 + 1.2 * record.depth:.1f}em"><span class="tog-pad"></span>'
        f"{markup(record.name.rsplit('/', 1)[-1] if parent else record.name)}</td>",
        _cell(record.type), _cell(hyper_text(record)),
        _cell(shape_text(record.output_shape), None, maths.output),
        _cell(exact(record.params), record.params, maths.params if record.params else ""),
        _cell(exact(record.macs), record.macs, maths.macs if record.macs else ""),
        _cell(exact(memory), memory, f"{exact(record.activation_elements)} elements × "
              f"{record.activation_bytes // max(record.activation_elements, 1)} bytes" if memory else ""),
        _cell("×".join(map(str, field.size)) if field else "", field.size[0] if field else 0),
    ]
    return (f'<tr data-path="{markup(record.name)}" data-parent="{markup(parent)}">' + "".join(cells) + "</tr>")


def _group_row(path: str, parent: str, kind: str, layers: list[LayerRecord], numbers: list[list[int]],
               depth: int, foldable: bool) -> str:
    """A block's row: the sums of its `layers`' params, MACs and memory (`numbers`), each with its terms."""
    params, macs, memory = ([v for v in column if v] for column in numbers)
    toggle = ('<button class="tog" aria-expanded="false" title="fold or unfold">\u25B8</button>' if foldable
              else '<span class="tog-pad"></span>')
    cells = [
        f'<td style="padding-left:{0.6 + 1.2 * depth:.1f}em">{toggle}'
        f'{markup(path.rsplit("/", 1)[-1] if parent else path)}</td>',
        _cell(kind), _cell(f"{len(layers)} layers"), _cell(_shape(layers[-1])),
        _cell(exact(sum(params)), sum(params), _sum_text(params) if len(params) > 1 else ""),
        _cell(exact(sum(macs)), sum(macs), _sum_text(macs) if len(macs) > 1 else ""),
        _cell(exact(sum(memory)), sum(memory), _sum_text(memory) if len(memory) > 1 else ""),
        _cell("", 0),
    ]
    return (f'<tr class="group" data-path="{markup(path)}" data-parent="{markup(parent)}">'
            + "".join(cells) + "</tr>")


def _shape(record: LayerRecord) -> str:
    return "×".join(str(v) for v in record.output_shape)


def table(report: Report) -> str:
    """The layer table: a row per layer, a foldable row per block (folded at first), sortable columns;
    blocks below the depth where it would pass _MAX_ROWS rows are not unfolded (a note says so)."""
    from ..draw.diagram import Nesting

    counts = Nesting.of(report)
    fitting = [d for d in [None, *range(counts.deepest, 0, -1)] if counts.rows(d) <= _MAX_ROWS]
    if not fitting:
        return (f"<p>Not listed: the table has {counts.rows(1):,} rows even with every block folded, more than the "
                f"{_MAX_ROWS:,} a page holds; <code>archcalc table</code> lists them.</p>")
    listed = fitting[0]
    kinds = {g.path: g.block for g in report.architecture.groups}
    layers = report.layers
    blocks = [_blocks(record.name, listed) for record in layers]  # the blocks each layer is listed in
    numbers = ([r.params for r in layers], [r.macs for r in layers],
               [r.activation_bytes if r.allocates else 0 for r in layers])
    members: dict[str, list[int]] = {}  # block → the indices of its layers (plain numbers: light to collect)
    for index, paths in enumerate(blocks):
        for path in paths:
            members.setdefault(path, []).append(index)
    lines = []
    for index, (record, paths) in enumerate(zip(layers, blocks)):
        for depth, path in enumerate(paths):
            inside = members[path]
            if inside[0] == index:  # the block's first layer: its row comes first
                lines.append(_group_row(path, paths[depth - 1] if depth else "", kinds.get(path, "block"),
                                        [layers[i] for i in inside], [[c[i] for i in inside] for c in numbers],
                                        depth, depth + 1 != listed))
        if listed is None or record.depth < listed:
            lines.append(_layer_row(record, paths[-1] if paths else ""))
    head = "".join(f'<th{" class=num" if numeric else ""}>{markup(name)}</th>' for name, numeric in _COLUMNS)
    note = "" if listed is None else (f"<p>Blocks below depth {listed} are not unfolded here: a row for each of its "
                                      f"{counts.rows(None):,} layers and blocks would pass the {_MAX_ROWS:,} a page "
                                      "holds; <code>archcalc table</code> lists them.</p>")
    return (f'{note}<table class="layers"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(lines)
            + "\n</tbody></table>")


def _blocks(name: str, listed: int | None) -> list[str]:
    """The paths of the blocks a layer lies in, outermost first, down to depth `listed`."""
    paths, end = [], name.find("/")
    while end >= 0 and (listed is None or len(paths) < listed):
        paths.append(name[:end])
        end = name.find("/", end + 1)
    return paths


def totals(report: Report) -> str:
    t = report.totals
    items = [("parameters", f"{exact(t.params)} ({exact(t.trainable_params)} trainable)"),
             ("MACs", f"{exact(t.macs)} ({count(t.macs, 'si')})"), ("FLOPs (2 × MACs)", count(t.flops, "si")),
             ("forward memory", nbytes(t.forward_memory_bytes, "si")),
             ("peak memory", nbytes(t.peak_memory_bytes, "si")), ("parameter memory", nbytes(t.param_bytes, "si")),
             ("input", "×".join(str(v) for v in report.input_shape) + f", batch {report.batch}, {report.dtype}")]
    accuracy = report.architecture.spec.accuracy
    if accuracy:
        scores = ", ".join(f"{label} {v}%" for label, v in (("top-1", accuracy.top1), ("top-5", accuracy.top5))
                           if v is not None)
        items.append(("published accuracy", f"{scores} on {accuracy.dataset} ({accuracy.source})"))
    return '<dl class="totals">' + "".join(f"<dt>{markup(k)}</dt><dd>{markup(v)}</dd>" for k, v in items) + "</dl>"


def drawing(report: Report) -> str:
    """The graph, blocks folded until it has at most _MAX_BOXES boxes (or a note where even depth 1 has more)."""
    from ..draw.diagram import TooLarge, diagram, folding
    from ..draw.graph import render

    try:
        fold = folding(report, None, _MAX_BOXES)
    except TooLarge as exc:
        return f"<p>Not drawn: {markup(exc.message)}.</p>"
    note = "" if fold.depth is None else f"<p>Blocks below depth {fold.depth} are folded into one box each.</p>"
    svg = render(diagram(report, fold.depth))
    return note + f'<div class="drawing">{svg[svg.index("<svg"):]}</div>'


def plots(report: Report) -> str:
    from ..draw.bars import svg_bars

    return '<div class="plots">' + "".join(f"<div>{svg_bars(report, what)}</div>"
                                           for what in ("params", "macs", "memory")) + "</div>"


def warnings(report: Report) -> str:
    skipped = report.architecture.spec.not_counted
    named = f"<p>Not counted: {markup('; '.join(skipped))}</p>" if skipped else ""
    if not report.warnings:
        return named + "<p>No warnings.</p>"
    return named + '<ul class="warn">' + "".join(f"<li>{markup(w)}</li>" for w in report.warnings) + "</ul>"


def fragment(report: Report) -> str:
    """Totals, drawing, table, plots and warnings of one network (the body of its page): the drawing
    beside the table on a wide window, above it on a narrow one."""
    title = markup(report.architecture.title)
    return "\n".join([
        f"<h1>{title}</h1>", f"<p>{markup(report.architecture.spec.source)}</p>", totals(report),
        '<div class="main"><div class="graph"><h2>Graph</h2>', drawing(report), "</div>",
        '<div class="layers"><h2>Layers</h2><p>Click ▸ to unfold a block, a header to sort; hover or tap a number '
        'for its arithmetic.</p><div class="scroll">', table(report), "</div></div></div>",
        "<h2>Per layer</h2>", plots(report), "<h2>Warnings</h2>", warnings(report)])


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{markup(title)}</title>'
            f"<style>{_CSS}</style></head>\n<body>\n{body}\n<div id=\"tip\"></div>\n"
            f"<script>{_SCRIPT}</script>\n</body></html>\n")


def report_page(report: Report) -> str:
    """One network's page."""
    return page(f"{report.architecture.title} — archcalc", fragment(report))


def compare_page(reports: list[Report]) -> str:
    """Several networks: the comparison table, then each network's page, one after the other."""
    from .formats.html import fragment as table_fragment

    sections = "".join(f'<div class="network">{fragment(r)}</div>' for r in reports)
    body = (f"<h1>{markup(' vs '.join(r.name for r in reports))}</h1>"
            f'<div class="scroll">{table_fragment(comparison(reports))}</div>{sections}')
    return page(" vs ".join(r.name for r in reports) + " — archcalc", body)


def comparison(reports: list[Report]) -> Table:
    """`archcalc compare`'s table with only the rows every network has (its totals, and the blocks of
    a name they share), and a footer line saying so."""
    from .compare import compare_table

    full = compare_table(reports)
    networks = [i for i, column in enumerate(full.columns) if column.header in {r.name for r in reports}]
    rows = tuple(row for row in full.rows if all(row[i].value is not None for i in networks))
    left_out = list(dict.fromkeys(row[0].text.rsplit(": ", 1)[0] for row in full.rows if row not in rows))
    shown = ", ".join(left_out[:12]) + (f" and {len(left_out) - 12} more" if len(left_out) > 12 else "")
    footer = full.footer + ((f"Not every network has a layer or block named {shown}: their rows are left out "
                             f"(archcalc compare {' '.join(r.name for r in reports)} lists them).",)
                            if left_out else ())
    return replace(full, rows=rows, footer=footer)

