"""The optional C part of repo-sdk: how the rules read text (repo_sdk/rules/native.c: sentences, tokens, codes).

Everything else is in pyproject.toml. Where the extension cannot be built (no C compiler),
the install goes on without it and the rules use the same code in Python.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("repo_sdk.rules.native", ["repo_sdk/rules/native.c"], optional=True)])
