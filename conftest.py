"""Repository-level pytest configuration."""

# Importing __main__ would run the CLI; doctests skip it.
collect_ignore = ["riskscore/__main__.py"]
