"""Data Wrangler (mirror of ``sagemaker.wrangler``)."""
