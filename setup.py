"""Build step that pyproject.toml cannot say: the wheel carries the browser extension.

`extension/` (kept once, at the top of the repository, loaded unpacked from there in
development) is copied into the built package as `draftvault/extension/`, where
`draftvault extension --out DIR` reads it (packaging.source_dir). MANIFEST.in puts it
in the sdist, so a wheel built from the sdist carries it too.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXTENSION = Path(__file__).resolve().parent / "extension"


class BuildWithExtension(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:  # an editable install reads the checkout's extension/
            target = Path(self.build_lib) / "draftvault" / "extension"
            shutil.copytree(EXTENSION, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))


setup(cmdclass={"build_py": BuildWithExtension})
