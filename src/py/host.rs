//! The Python host: runs in-process function steps and registered step handlers by calling a
//! Python callable with the task JSON, holding the GIL only for that call.

use pyo3::prelude::*;

use crate::core::engine::Host;

pub struct PyHost {
    callback: Py<PyAny>,
}

impl PyHost {
    pub fn new(callback: Py<PyAny>) -> Self {
        PyHost { callback }
    }
}

impl Host for PyHost {
    fn call(&self, task: &str) -> Result<String, String> {
        Python::attach(|py| {
            self.callback
                .call1(py, (task,))
                .and_then(|r| r.extract::<String>(py))
                .map_err(|e| format!("the Python step runner raised {e}"))
        })
    }
}
