"""Map the four layer folders at the repository root onto the `hexlit` import package.

pyproject.toml holds all metadata; this file only computes the package list, because
setuptools' declarative `packages.find` cannot rename folders. See docs/adr/0001-packaging.md.
"""

from setuptools import find_packages, setup

LAYERS = ("ports", "domain", "adapters", "composition")

package_dir: dict[str, str] = {}
packages: list[str] = []
for layer in LAYERS:
    for found in [layer, *(f"{layer}.{sub}" for sub in find_packages(layer))]:
        name = f"hexlit.{found}"
        packages.append(name)
        package_dir[name] = found.replace(".", "/")

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={name: ["py.typed", "site/*", "site/static/*"] for name in packages},
)
