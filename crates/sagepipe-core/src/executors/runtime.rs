//! The Python runtime's modules the core starts with `python -m`. The core names none of them:
//! the binding, which ships them in its Python package, fills this in.

/// The runtime's modules, by what the core needs them for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuntimeModules {
    /// Serves function-step tasks in a worker process (`engine::workers::WorkerSpec::module`).
    pub worker: String,
    /// Stands in for the SageMaker XGBoost algorithm image (a built-in image runner).
    pub xgboost_train: String,
    /// Serves a model over a transform job's input (batch transform).
    pub batch_transform: String,
}

#[cfg(test)]
impl RuntimeModules {
    /// Module names for tests, none of them real.
    pub(crate) fn for_tests() -> RuntimeModules {
        RuntimeModules {
            worker: "runtime_under_test.worker".into(),
            xgboost_train: "runtime_under_test.xgboost_train".into(),
            batch_transform: "runtime_under_test.batch_transform".into(),
        }
    }
}
