"""The drawing surface on its hostile corpus (`tests/hostile/draw/`): besides `draw` (run by
test_hostile_corpus.py), the block figure, the HTML report and the plots of each input, within the
same bounds of CPU and memory, each a well-formed picture or a one-line refusal naming the input."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hostile import one_line_error, run_archcalc

CORPUS = Path(__file__).parent / "hostile" / "draw"
CASES = sorted(json.loads((CORPUS / "manifest.json").read_text())["cases"])
PRELOAD = ("archcalc.cli", "archcalc.analysis", "archcalc.draw.graph", "archcalc.draw.blocks", "archcalc.report.page",
           "numpy")
COMMANDS = {  # what runs, what it writes, and the modules it needs
    "blocks": (["draw", "{input}", "--kind", "blocks", "-o", "out.svg"], "out.svg", ()),
    "report": (["report", "{input}", "-o", "out.html"], "out.html", ()),
    "plot": (["plot", "{input}", "--what", "memory", "-o", "out.svg"], "out.svg", ("matplotlib",)),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("name", CASES)
def test_each_picture_of_a_hostile_input_is_well_formed_or_refused(canaries, name, command):
    arguments, output, needs = COMMANDS[command]
    for module in needs:
        pytest.importorskip(module)
    shutil.copyfile(CORPUS / name, canaries.folder / name)
    run = run_archcalc(canaries.folder, *(a.replace("{input}", name) for a in arguments),
                       preload=PRELOAD + tuple(f"{m}.pyplot" for m in needs))
    if run.status:
        one_line_error(run, name)
    else:
        written = (canaries.folder / output).read_text(encoding="utf-8")
        pictures = re.findall(r"<svg.*?</svg>", written, re.S) if output.endswith(".html") else [written]
        assert pictures
        for svg in pictures:
            ET.fromstring(svg)
    canaries.assert_untouched(run.stdout, run.stderr)
