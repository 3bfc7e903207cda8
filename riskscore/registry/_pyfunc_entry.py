"""Models-from-code entry point of the riskscore pyfunc (MLflow runs this file on load).

MLflow copies this file into every logged model and executes it to build the Python
model, so no pickle is involved. Never import it yourself.
"""

from mlflow.models import set_model

from riskscore.registry._pyfunc import RiskModelPyfunc

set_model(RiskModelPyfunc())
