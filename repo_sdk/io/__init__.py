"""Reading logs and writing rows: records, JSON, paths, atomic outputs.

Example:
    >>> from repo_sdk.io import PASS_BUFFER
    >>> PASS_BUFFER >= 1 << 16
    True
"""

#: Bytes buffered by a file read or written in one pass (logs, rows, the journal, the outputs). A line of a long
#: dialogue is ten kilobytes and more: with the default 8 KB buffer each cost several system calls and copies.
PASS_BUFFER = 1 << 20
