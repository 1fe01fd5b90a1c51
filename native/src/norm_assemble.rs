//! The normalising worker's models, assembled without a Python frame each: core.normalise builds
//! about three a record (the record, its identifiers not cached yet, its orders) through
//! core.schema_base's ``assemble_model``, which is ``_assembled(cls, values, None)``: the object
//! made by ``object.__new__``, ``values`` itself as its ``__dict__``, the class's shared set of
//! all its fields and no extra or private values. native/src/worker_handover.rs's ``reassemble``
//! builds exactly that for a ``fields_set`` of None (a class not seen yet goes to the Python
//! function), so this is that call with two arguments, as core.normalise calls it (chosen by
//! profilesync.resolve_native; the oracle: tests/unit/test_native29n_assemble_parity.py).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

/// ``core.schema_base.assemble_model(cls, values)``: a ``cls`` holding ``values`` (every field
/// given and already valid), without validation.
#[pyfunction]
pub fn assemble_model(py: Python<'_>, cls: &PyType, values: &PyDict) -> PyResult<PyObject> {
    crate::worker_handover::reassemble(py, cls, values, py.None().as_ref(py))
}
