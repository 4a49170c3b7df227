//! Core errors become the Python exception classes of `sagepipe.exceptions` (defined in Python
//! so they can also subclass `ValueError`, `LookupError` and `OSError` like the SDK's errors).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use sagepipe_core::error::CoreError;

fn class_name(e: &CoreError) -> &'static str {
    match e {
        CoreError::Definition { .. } => "DefinitionError",
        CoreError::Parameter { .. } => "ParameterError",
        CoreError::Selection { .. } => "SelectionError",
        CoreError::ReferenceExecution { .. } => "ReferenceExecutionError",
        CoreError::NotFound { .. } => "ResourceNotFoundError",
        CoreError::Validation(_) => "ValidationError",
        CoreError::Conflict(_) => "ConflictError",
        CoreError::Unsupported { .. } => "UnsupportedStepError",
        CoreError::Store { .. } | CoreError::CorruptRecord { .. } => "StoreError",
    }
}

/// Build the Python exception for a core error: `cls(message, problems_json)`.
pub fn to_py(e: CoreError) -> PyErr {
    Python::attach(|py| {
        let problems = serde_json::to_string(e.problems()).unwrap_or_else(|_| "[]".into());
        let built = py
            .import("sagepipe.exceptions")
            .and_then(|m| m.getattr(class_name(&e)))
            .and_then(|cls| cls.call1((e.to_string(), problems)));
        match built {
            Ok(exc) => PyErr::from_value(exc),
            Err(import_error) => {
                let err = PyRuntimeError::new_err(e.to_string());
                err.set_cause(py, Some(import_error));
                err
            }
        }
    })
}
