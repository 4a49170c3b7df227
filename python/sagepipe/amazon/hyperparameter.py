"""Typed, validated hyperparameters of the built-in algorithms (mirror of ``sagemaker.amazon.hyperparameter``).

A :class:`Hyperparameter` is a descriptor on an estimator class: assigning converts the value
to the declared type, validates it and stores it in the estimator's ``_hyperparameters`` dict
under the algorithm's own name (``KMeans.max_iterations`` is ``local_lloyd_max_iter``), which is
what the training request carries.
"""

import json

from sagepipe.workflow import is_pipeline_variable


class Hyperparameter:
    """An algorithm hyperparameter with optional validation (a descriptor)."""

    def __init__(self, name, validate=lambda _: True, validation_message="", data_type=str):
        """Declare a hyperparameter.

        Args:
            name (str): The name the algorithm knows it by.
            validate (callable or iterable of callables): Predicates the value must satisfy.
            validation_message (str): What a valid value looks like (shown on failure).
            data_type (type): The type values are converted to on assignment.
        """
        self.name = name
        self.validation_message = validation_message
        self.data_type = data_type
        try:
            self.validation = list(validate)
        except TypeError:
            self.validation = [validate]

    def validate(self, value):
        """Raise ``ValueError`` unless ``value`` is None or passes every predicate."""
        if value is None:  # None may be assigned; it is never sent to training.
            return
        for valid in self.validation:
            if not valid(value):
                message = f"Invalid hyperparameter value {value} for {self.name}"
                if self.validation_message:
                    message += ". Expecting: " + self.validation_message
                raise ValueError(message)

    def __get__(self, obj, objtype):
        if obj is None:
            return self
        values = obj.__dict__.get("_hyperparameters")
        if values is None or self.name not in values:
            raise AttributeError(self.name)
        return values[self.name]

    def __set__(self, obj, value):
        # Pipeline variables are resolved at run time: neither converted nor validated here.
        if value is not None and not is_pipeline_variable(value):
            value = self.data_type(value)
            self.validate(value)
        obj.__dict__.setdefault("_hyperparameters", {})[self.name] = value

    def __delete__(self, obj):
        del obj._hyperparameters[self.name]

    @staticmethod
    def serialize_all(obj):
        """The non-None hyperparameters of ``obj`` as ``dict[str, str]`` (lists as JSON)."""
        serialized = {}
        for name, value in (obj.__dict__.get("_hyperparameters") or {}).items():
            if value is None:
                continue
            if isinstance(value, list):
                serialized[name] = json.dumps(value)
            elif is_pipeline_variable(value):
                serialized[name] = value.to_string()
            else:
                serialized[name] = str(value)
        return serialized
