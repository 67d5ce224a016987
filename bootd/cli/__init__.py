"""Command-line sub-commands of bootd; see bootd/__main__.py."""


def N_(message: str) -> str:  # noqa: N802  # gettext's name for "mark, translate later"
    """Mark a ``--help`` text for the ``bootd`` catalogue: it stays English in
    the parser (the man page and the shell completion are built from it) and
    is translated only when ``--help`` is printed (``bootd.__main__.HelpFormatter``)."""
    return message
