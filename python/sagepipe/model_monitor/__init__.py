"""Model Monitor configuration classes (mirror of ``sagemaker.model_monitor``).

sagepipe keeps the parts pipelines use to *describe* checks (``DatasetFormat`` for
``QualityCheckStep``, the monitoring analysis configs of ``ClarifyCheckStep``). Monitoring
schedules and baselining jobs run on SageMaker only.
"""

from sagepipe.model_monitor.clarify_model_monitoring import (  # noqa: F401
    BiasAnalysisConfig,
    ExplainabilityAnalysisConfig,
)
from sagepipe.model_monitor.dataset_format import DatasetFormat, MonitoringDatasetFormat  # noqa: F401
