//! `sagepipe._core.Execution`: a handle to an execution this process runs.

use pyo3::prelude::*;
use std::time::Duration;

use sagepipe_core::engine::ExecutionHandle;

#[pyclass(frozen, name = "Execution", module = "sagepipe._core")]
pub struct PyExecution {
    handle: ExecutionHandle,
}

impl From<ExecutionHandle> for PyExecution {
    fn from(handle: ExecutionHandle) -> Self {
        PyExecution { handle }
    }
}

#[pymethods]
impl PyExecution {
    #[getter]
    fn arn(&self) -> String {
        self.handle.arn.clone()
    }

    /// Block (without the GIL) until the execution ends; False if `timeout` seconds passed first.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        // Wait in slices so Ctrl-C reaches Python promptly.
        let deadline = timeout.map(|t| std::time::Instant::now() + Duration::from_secs_f64(t.max(0.0)));
        loop {
            let slice = match deadline {
                Some(d) => d
                    .saturating_duration_since(std::time::Instant::now())
                    .min(Duration::from_millis(100)),
                None => Duration::from_millis(100),
            };
            let h = self.handle.clone();
            if py.detach(move || h.wait(Some(slice))) {
                return Ok(true);
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Ok(false);
            }
        }
    }

    fn stop(&self, py: Python<'_>) {
        let h = self.handle.clone();
        py.detach(move || h.stop());
    }

    fn done(&self) -> bool {
        self.handle.is_done()
    }
}
