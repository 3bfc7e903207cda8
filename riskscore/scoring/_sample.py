"""The sample model kept in ``models/``: trained on ``data/sample`` by :func:`build_sample_model`.

``make sample-model`` runs ``python -m riskscore.scoring._sample``, which trains the seller
counterfeit model on the committed 300-seller marketplace (``data/sample``) and exports it
to ``models/seller-counterfeit-sample`` with :func:`riskscore.scoring._folder.export_model`.
It exists so that the first lines of the README score a seller right after
``make install``, before any training; it is far too small to be a real model.

Training is deterministic (one LightGBM thread, seed 0, no bootstrap, no family report, no
refit), so the same data give byte-identical files; ``tests/scoring/test_folder.py``
rebuilds it and fails when the committed folder is stale.

Same bytes on any x86-64 machine with AVX2: numpy and OpenBLAS pick their kernels at run
time, and their AVX-512 ones round the last bit differently from the AVX2 ones, so the
features, the data fingerprint, the trees and the thresholds of a model trained on an
AVX-512 CPU differ in the 16th digit from one trained on an AVX2 CPU (measured: numpy's
dispatch changes the trees, OpenBLAS's the features). :func:`build_portable` (what ``make
sample-model`` and the freshness test run) trains in a fresh interpreter with both on
their AVX2 kernels (:data:`PORTABLE_ENV`).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

__all__ = ["PORTABLE_ENV", "SAMPLE_DATA", "SAMPLE_MODEL", "build_portable", "build_sample_model"]

#: Where the sample data and the sample model live, relative to the repository root.
SAMPLE_DATA = "data/sample"
SAMPLE_MODEL = "models/seller-counterfeit-sample"

#: Environment of :func:`build_portable` on x86-64 (nothing elsewhere): numpy's AVX-512
#: kernels off (a feature the CPU lacks is ignored) and OpenBLAS on its Haswell (AVX2)
#: kernels, whose SkylakeX ones also change the features' last bits.
PORTABLE_ENV: dict[str, str] = {}
if platform.machine().lower() in ("x86_64", "amd64"):
    PORTABLE_ENV["NPY_DISABLE_CPU_FEATURES"] = "X86_V4 AVX512_ICL AVX512_SPR"
    try:  # Haswell kernels need AVX2: a CPU without it keeps OpenBLAS's own choice
        with open("/proc/cpuinfo", encoding="utf-8") as _info:
            if " avx2" in _info.read():
                PORTABLE_ENV["OPENBLAS_CORETYPE"] = "Haswell"
    except OSError:  # pragma: no cover - not Linux
        pass

#: Set in the interpreter :func:`build_portable` starts (it builds, it does not start another).
_CHILD = "RISKSCORE_SAMPLE_CHILD"

#: Biweekly cutoffs and a 90-day horizon: 300 sellers hold few positives per cutoff.
_SET: dict[str, Any] = {"n_cutoffs": 10, "freq": "14D", "horizon": "90D"}
_TRAIN: dict[str, Any] = {
    "seed": 0,
    "num_threads": 1,
    "n_bootstrap": 0,
    "family_report": False,
    "refit": False,
    "capacity": 5,
    "valid_windows": 3,
    "test_windows": 3,
    "entity_disjoint": False,
    "min_positives": 5,
}


def build_sample_model(
    data: str | os.PathLike[str] = SAMPLE_DATA,
    out: str | os.PathLike[str] = SAMPLE_MODEL,
    *,
    overwrite: bool = True,
    source_root: str | os.PathLike[str] | None = None,
) -> Path:
    """Train the sample seller counterfeit model on ``data`` and export it to ``out``.

    Parameters
    ----------
    data : path, default "data/sample"
        A folder of marketplace tables.
    out : path, default "models/seller-counterfeit-sample"
    overwrite : bool, default True
        Replace ``out`` when it exists.
    source_root : path, optional
        The manifest records ``data`` relative to this folder (default: the working
        directory), so that rebuilding from anywhere gives the same manifest.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from riskscore.io import load_tables
    from riskscore.modeling import TrainingWarning, train
    from riskscore.modeling._recipe import marketplace_config, marketplace_training_set
    from riskscore.scoring._folder import export_model

    tables = load_tables(data)
    config = marketplace_config("seller", "counterfeit", **_TRAIN)
    with warnings.catch_warnings():
        # the last cutoff's label window ends after the last decision of the sample data:
        # known and harmless for a demo model
        warnings.filterwarnings("ignore", message="the label window", category=UserWarning)
        warnings.simplefilter("ignore", TrainingWarning)
        frame = marketplace_training_set(tables, "seller", "counterfeit", **_SET)
        result = train(frame, config)
    return export_model(
        result.model,
        out,
        version="sample",
        card=result.model_card(),
        source_text=f"{_relative(data, source_root)} (python -m riskscore.scoring._sample)",
        overwrite=overwrite,
    )


def build_portable(
    data: str | os.PathLike[str] = SAMPLE_DATA,
    out: str | os.PathLike[str] = SAMPLE_MODEL,
    *,
    source_root: str | os.PathLike[str] | None = None,
) -> Path:
    """Run :func:`build_sample_model` in a fresh interpreter with :data:`PORTABLE_ENV`.

    numpy reads its CPU settings once, at import, hence the new process. ``data`` and
    ``out`` are taken relative to ``source_root`` (default: the working directory), which
    is also the folder the manifest records ``data`` against.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    TrainingError
        When the build fails (its output is in the message).
    """
    root = Path(source_root or Path.cwd()).resolve()
    data_path, out_path = ((root / Path(p)).resolve() for p in (data, out))
    got = subprocess.run(
        [sys.executable, "-m", "riskscore.scoring._sample", str(data_path), str(out_path)],
        cwd=root,
        env={**os.environ, **PORTABLE_ENV, _CHILD: "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if got.returncode != 0:
        from riskscore.exceptions import TrainingError

        raise TrainingError(
            f"building the sample model from {data_path} failed (output below); fix the "
            f"cause and rerun `make sample-model`:\n{got.stdout}{got.stderr}"
        )
    return out_path


def _relative(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> str:
    full = Path(path).resolve()
    try:
        return full.relative_to(Path(root or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


if __name__ == "__main__":  # pragma: no cover - the make target
    args = sys.argv[1:]
    if os.environ.get(_CHILD):
        folder = build_sample_model(*args[:2]) if args else build_sample_model()
    else:
        folder = build_portable(*args[:2])
    print(f"wrote {folder}")
