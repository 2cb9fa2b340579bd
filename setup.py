"""Map the four layer folders at the repository root onto the `hexlit` import package.

pyproject.toml holds all metadata; this file only computes the package list, because
setuptools' declarative `packages.find` cannot rename folders. See docs/adr/0001-packaging.md.
"""

from setuptools import find_namespace_packages, setup

LAYERS = ("ports", "domain", "adapters", "composition")

package_dir: dict[str, str] = {}
packages: list[str] = []
for layer in LAYERS:
    # Namespace discovery lists data folders (the built-in frontend's `site/`) as packages
    # too, so setuptools ships them without warning that a package "would be ignored".
    subs = find_namespace_packages(layer, exclude=["*__pycache__*"])
    for found in [layer, *(f"{layer}.{sub}" for sub in subs)]:
        name = f"hexlit.{found}"
        packages.append(name)
        package_dir[name] = found.replace(".", "/")

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={name: ["*"] if ".site" in name else ["py.typed"] for name in packages},
)
