"""The optional C parts of repo-sdk: how the rules read text (repo_sdk/rules/native.c: sentences, tokens, codes),
and the models of a turn made without Python steps (repo_sdk/fastmodel.c).

Everything else is in pyproject.toml. Where an extension cannot be built (no C compiler),
the install goes on without it and the same code runs in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("repo_sdk.rules.native", ["repo_sdk/rules/native.c"], optional=True),
        Extension("repo_sdk.fastmodel", ["repo_sdk/fastmodel.c"], optional=True),
    ]
)
