"""The optional C part of repo-sdk: token codes for the repetition rules (repo_sdk/rules/_speedups.c).

Everything else is in pyproject.toml. Where the extension cannot be built (no C compiler),
the install goes on without it and the rules use the same code in Python.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("repo_sdk.rules._speedups", ["repo_sdk/rules/_speedups.c"], optional=True)])
