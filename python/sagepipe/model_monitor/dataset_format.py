"""Dataset formats of Model Monitor baselining (mirror of ``sagemaker.model_monitor.dataset_format``)."""


class DatasetFormat:
    """The format of a baseline dataset, as the monitor analyzer's ``dataset_format`` reads it."""

    @staticmethod
    def csv(header=True, output_columns_position="START"):
        """A CSV dataset.

        Args:
            header (bool): Whether the first line is a header (default: True).
            output_columns_position (str): ``"START"`` or ``"END"``: where the model outputs are.

        Returns:
            dict: ``{"csv": {"header": ..., "output_columns_position": ...}}``.
        """
        return {"csv": {"header": header, "output_columns_position": output_columns_position}}

    @staticmethod
    def json(lines=True):
        """A JSON (``lines=True``: JSON Lines) dataset.

        Returns:
            dict: ``{"json": {"lines": ...}}``.
        """
        return {"json": {"lines": lines}}

    @staticmethod
    def sagemaker_capture_json():
        """Data captured from an endpoint.

        Returns:
            dict: ``{"sagemakerCaptureJson": {}}``.
        """
        return {"sagemakerCaptureJson": {}}


class MonitoringDatasetFormat:
    """The dataset format of a batch-transform monitoring input (the API's ``DatasetFormat``)."""

    @staticmethod
    def csv(header=True):
        """A CSV dataset: ``{"Csv": {"Header": header}}``."""
        return {"Csv": {"Header": header}}

    @staticmethod
    def json(lines=True):
        """A JSON dataset: ``{"Json": {"Line": lines}}``."""
        return {"Json": {"Line": lines}}

    @staticmethod
    def parquet():
        """A Parquet dataset: ``{"Parquet": {}}``."""
        return {"Parquet": {}}
