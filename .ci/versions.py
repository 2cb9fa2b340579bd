"""Print the installed version of each of hexlit's direct dependencies (CI logs say what ran).

Run with the venv's Python; a dependency of an extra this venv does not carry is listed as
such, so the list is the same shape in every venv.
"""

import importlib.metadata as metadata
import re

requirements = metadata.requires("hexlit") or []
names = sorted({re.match(r"[\w.-]+", line)[0].lower() for line in requirements})
for name in names:
    try:
        print(f"  {name}=={metadata.version(name)}")
    except metadata.PackageNotFoundError:
        print(f"  {name}: not in this venv (an extra it does not use)")
