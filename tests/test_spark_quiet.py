"""Spark under pandas 3 prints no page of "PySpark does not yet fully support pandas" lines,
and none of Spark's start-up log.

PySpark 4.3 raises that FutureWarning on every pandas conversion, in the driver and in
each Python worker. :func:`riskscore._spark.local_spark_session` ignores that one warning
in both; these tests run Spark in a subprocess and read its stderr, where a worker's
warnings land (through the JVM), as a user would see them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: The script: a pandas UDF whose worker checks the pandas version (PySpark warns there),
#: first in riskscore's session, then in a session whose workers show every FutureWarning
#: (the control: it proves a worker's warning reaches this stderr when not ignored). Each
#: phase has its own UDF, so the line number in a warning says which phase raised it.
SCRIPT = textwrap.dedent(
    """
    import sys
    from riskscore._spark import local_spark_session

    spark = local_spark_session("quiet", cores=1, log_level="ERROR")
    import pandas as pd
    from pyspark.sql.functions import pandas_udf


    @pandas_udf("double")
    def quiet_phase(s: pd.Series) -> pd.Series:
        from pyspark.sql.pandas.utils import require_minimum_pandas_version
        require_minimum_pandas_version()
        return s * 2


    @pandas_udf("double")
    def loud_phase(s: pd.Series) -> pd.Series:
        from pyspark.sql.pandas.utils import require_minimum_pandas_version
        require_minimum_pandas_version()
        return s * 3


    def run(session, udf):
        frame = session.createDataFrame(pd.DataFrame({"a": [1.0, 2.0]}))
        return float(frame.select(udf("a").alias("a")).toPandas()["a"].sum())


    print("quiet sum", run(spark, quiet_phase), flush=True)
    spark.stop()
    conf = {"spark.executorEnv.PYTHONWARNINGS": "always::FutureWarning"}
    loud = local_spark_session("loud", cores=1, log_level="ERROR", reuse_active=False, conf=conf)
    print("loud sum", run(loud, loud_phase), flush=True)
    loud.stop()
    """
)


def _line_of(name: str) -> int:
    """The 1-based line of the version check in ``<name>`` in SCRIPT (the warning's line)."""
    lines = SCRIPT.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}"))
    return start + 2 + 1  # two lines below the def, counted from 1


@pytest.mark.spark
@pytest.mark.slow
def test_spark_driver_and_workers_do_not_print_the_pandas3_warning(tmp_path: Path) -> None:
    script = tmp_path / "spark_quiet.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "PYSPARK_PYTHON")}
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "quiet sum 6.0" in done.stdout and "loud sum 9.0" in done.stdout
    warned = [
        line for line in done.stderr.splitlines() if "does not yet fully support pandas" in line
    ]
    where = [int(m[1]) for m in (re.search(r"\.py:(\d+): FutureWarning", w) for w in warned) if m]
    # the control: a worker that shows FutureWarnings prints this one here
    assert _line_of("loud_phase") in where, done.stderr[-3000:]
    # riskscore's session: nothing from the driver (pyspark's files) nor from its workers
    assert all(line == _line_of("loud_phase") for line in where), warned
    assert len(where) == len(warned), warned
    # Spark's own start-up log (default profile, hostname and native-hadoop WARNs, the
    # "Setting default log level" notice) is gone: riskscore's profile logs at ERROR
    log = [
        line
        for line in done.stderr.splitlines()
        if re.search(r" (WARN|INFO) |log4j profile|Setting default log level", line)
    ]
    assert log == [], log


def test_driver_log_options_name_the_profile_and_check_the_level() -> None:
    from riskscore._spark import LOG4J2_PROFILE, driver_log_options
    from riskscore.exceptions import ParameterError

    options = driver_log_options("error", "-Dlog4j2.debug=false")
    assert options.split() == [
        f"-Dlog4j2.configurationFile={LOG4J2_PROFILE.as_uri()}",
        "-Driskscore.spark.log.level=ERROR",
        "-Dlog4j2.debug=false",
    ]
    assert LOG4J2_PROFILE.is_file()
    assert "${sys:riskscore.spark.log.level" in LOG4J2_PROFILE.read_text(encoding="utf-8")
    with pytest.raises(ParameterError, match=r"'log_level'.*Got 'LOUD'"):
        driver_log_options("LOUD")
