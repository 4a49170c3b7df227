"""Default constants of Spark processing (mirror of ``sagemaker.spark.defaults``)."""

SPARK_NAME = "spark"
