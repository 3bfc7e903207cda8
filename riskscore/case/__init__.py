"""Case files: everything an enforcement team takes away about one seller, verifiable.

- :func:`write_case` scores one seller as of a time and writes one folder and a zip: the
  evidence page (HTML, Markdown, JSON), the legal-threshold result, the orders,
  complaints and listings behind the reasons (only rows known at ``as_of``), the linked
  sellers and the identifiers they share, the model and rule set used, the decision, and
  a manifest with the SHA-256 of every file; every page in the chosen language.
- :func:`read_case` verifies the hashes (naming any changed file) and re-scores the
  stored inputs with the stored model and rule set to reproduce the decision.

See ``docs/case-files.md``.
"""

from __future__ import annotations

from riskscore.case._errors import CaseFileError
from riskscore.case._read import read_case, verify_case
from riskscore.case._write import CASE_FORMAT, FAMILY_FILES, CaseFile, write_case

__all__ = [
    "CASE_FORMAT",
    "FAMILY_FILES",
    "CaseFile",
    "CaseFileError",
    "read_case",
    "verify_case",
    "write_case",
]
