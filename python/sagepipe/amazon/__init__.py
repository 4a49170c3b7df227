"""The built-in Amazon SageMaker algorithms (mirror of ``sagemaker.amazon``).

Estimators and models of the algorithm images (:mod:`.kmeans`, :mod:`.linear_learner`,
:mod:`.pca`, ...), the :class:`~.amazon_estimator.RecordSet` channels they train on and the
RecordIO-protobuf format (:mod:`.common`). Training steps build the SDK's definition; running
one locally needs a runner registered for the image (:func:`sagepipe.local_runners.register_image`).
"""
