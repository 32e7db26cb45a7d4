"""Executes Jupyter notebooks with nbclient (CI: they never rot), from their own folder as
Jupyter would; with --save-figures DIR also writes every figure as DIR/NAME-K.png.

Usage: python scripts/run-notebook.py NOTEBOOK.ipynb... [--save-figures DIR]
"""

import base64
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main(args: list[str]) -> int:
    out = None
    if "--save-figures" in args:
        i = args.index("--save-figures")
        out = Path(args[i + 1])
        args = args[:i] + args[i + 2 :]
    for name in args:
        path = Path(name).resolve()
        nb = nbformat.read(path, as_version=4)
        t0 = time.monotonic()
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        figures = [
            o["data"]["image/png"]
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        print(f"{name}: executed in {time.monotonic() - t0:.1f} s, {len(figures)} figure(s)")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for k, png in enumerate(figures):
                (out / f"{path.stem}-{k}.png").write_bytes(base64.b64decode(png))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
