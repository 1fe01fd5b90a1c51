//! The normalising worker's hand-over (profilesync.parallel_normalise): the canonical schema's
//! models pickled and read back as core.schema_base's ``_Frozen.__reduce__`` and ``_reassemble``
//! do, without a Python frame per model (about five models a record).
//!
//! parallel_normalise's reducer pickles a model in the common case as its class and its
//! ``__dict__`` itself, read back by ``reassemble`` here, which builds the model as
//! ``core.schema_base._assembled`` does (``object.__new__`` and the four slots of pydantic's
//! ``BaseModel`` set through their own descriptors); a class not seen yet goes to the Python
//! function. (A compiled reducer as well was measured slower than the Python one, whose slot
//! reads the interpreter specialises: docs/architecture.md.) The oracle: tests/unit/test_native28w_handover_parity.py.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::once_cell::GILOnceCell;
use pyo3::prelude::*;
use pyo3::AsPyPointer;
use pyo3::types::{PyDict, PyTuple, PyType};

struct Models {
    /// core.schema_base's ``_ALL_FIELDS``: per class, the shared set of all its fields.
    all_fields: Py<PyDict>,
    /// ``BaseModel``'s slot descriptors: ``__dict__``, ``__pydantic_fields_set__``,
    /// ``__pydantic_extra__``, ``__pydantic_private__``.
    slots: [PyObject; 4],
    /// core.schema_base's ``_reassemble``, for what is not the common case.
    python_reassemble: PyObject,
}

static MODELS: GILOnceCell<Models> = GILOnceCell::new();

fn models(py: Python<'_>) -> PyResult<&Models> {
    if let Some(found) = MODELS.get(py) {
        return Ok(found);
    }
    let base = py.import("core.schema_base")?;
    let all_fields: &PyDict = base.getattr("_ALL_FIELDS")?.downcast()?;
    let own = py.import("pydantic")?.getattr("BaseModel")?.getattr("__dict__")?;
    let slot = |name: &str| -> PyResult<PyObject> { Ok(own.get_item(name)?.into()) };
    let found = Models {
        all_fields: all_fields.into(),
        slots: [
            slot("__dict__")?,
            slot("__pydantic_fields_set__")?,
            slot("__pydantic_extra__")?,
            slot("__pydantic_private__")?,
        ],
        python_reassemble: base.getattr("_reassemble")?.into(),
    };
    let _ = MODELS.set(py, found);
    Ok(MODELS.get(py).expect("set above"))
}

/// ``descriptor.__set__(obj, value)`` through the descriptor type's own slot.
fn set_through(py: Python<'_>, descriptor: &PyObject, obj: &PyObject, value: &PyAny) -> PyResult<()> {
    // SAFETY: the three pointers are live objects held for the call; tp_descr_set is the C slot
    // ``__set__`` calls, given the arguments it is given there.
    unsafe {
        let setter = (*ffi::Py_TYPE(descriptor.as_ptr()))
            .tp_descr_set
            .ok_or_else(|| PyTypeError::new_err("a slot without a setter"))?;
        if setter(descriptor.as_ptr(), obj.as_ptr(), value.as_ptr()) != 0 {
            return Err(PyErr::fetch(py));
        }
    }
    Ok(())
}

/// ``core.schema_base._reassemble(cls, values, fields_set)``: a ``cls`` whose ``__dict__`` is
/// ``values`` itself, with ``fields_set`` (None: the class's shared set of all its fields).
#[pyfunction]
pub fn reassemble(py: Python<'_>, cls: &PyType, values: &PyDict, fields_set: &PyAny) -> PyResult<PyObject> {
    let found = models(py)?;
    let fields_set = if fields_set.is_none() {
        match found.all_fields.as_ref(py).get_item(cls) {
            Some(shared) => shared,
            None => return found.python_reassemble.call1(py, (cls, values, fields_set)),
        }
    } else {
        fields_set
    };
    // ``object.__new__(cls)``: no model class defines ``__new__`` (as core.schema_base relies on).
    // SAFETY: ``cls`` is a live type; tp_new returns a new reference or NULL with an error set.
    let obj: PyObject = unsafe {
        let new = ffi::PyBaseObject_Type
            .tp_new
            .ok_or_else(|| PyTypeError::new_err("object has no tp_new"))?;
        let made = new(cls.as_type_ptr(), PyTuple::empty(py).as_ptr(), std::ptr::null_mut());
        if made.is_null() {
            return Err(PyErr::fetch(py));
        }
        PyObject::from_owned_ptr(py, made)
    };
    let none = py.None();
    set_through(py, &found.slots[0], &obj, values)?;
    set_through(py, &found.slots[1], &obj, fields_set)?;
    set_through(py, &found.slots[2], &obj, none.as_ref(py))?;
    set_through(py, &found.slots[3], &obj, none.as_ref(py))?;
    Ok(obj)
}
