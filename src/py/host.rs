//! The Python host: runs in-process function steps and registered step handlers by calling a
//! Python callable with the task JSON, holding the GIL only for that call.

use pyo3::prelude::*;

use sagepipe_core::engine::Host;

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

    /// Raise `KeyboardInterrupt` in the thread running an in-process step (the runner lets it
    /// through, so the step ends and the scheduler records it Stopped).
    fn interrupt(&self, thread: u64) {
        Python::attach(|py| {
            let exc = py.get_type::<pyo3::exceptions::PyKeyboardInterrupt>();
            // SAFETY: called with the GIL held; `exc` is a live exception type. The id is a
            // thread id as CPython records it; an id with no Python thread state is ignored.
            unsafe {
                pyo3::ffi::PyThreadState_SetAsyncExc(thread as std::os::raw::c_long, exc.as_ptr());
            }
        });
    }
}
