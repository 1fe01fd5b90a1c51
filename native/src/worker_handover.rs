//! The normalising worker's hand-over (profilesync.parallel_normalise): the canonical schema's
//! models pickled and read back as core.schema_base's ``_Frozen.__reduce__`` and ``_reassemble``
//! do, without a Python frame per model (about five models a record).
//!
//! ``reduce_model`` is the pickler's reducer for every model class (parallel_normalise's
//! ``_reduce_model``): the model's class and its ``__dict__`` itself, read back by ``reassemble``,
//! which builds the model as ``core.schema_base._assembled`` does (``object.__new__`` and the four
//! slots of pydantic's ``BaseModel`` set through their own descriptors). Any model that is not
//! the common case (its own set of fields, private or extra values, a class not seen yet) goes to
//! the Python functions, which decide. The oracle: tests/unit/test_native28w_handover_parity.py.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::intern;
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
    /// This module's ``reassemble``, the callable the pickled models name.
    reassemble: PyObject,
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
        reassemble: py.import("profilesync_native")?.getattr("reassemble")?.into(),
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

/// ``obj.<slot>`` through the slot's descriptor (a model class defines ``__getattr__``, so the
/// attribute look-up by name goes through its hook first).
fn get_through<'py>(py: Python<'py>, descriptor: &PyObject, obj: &PyAny) -> PyResult<&'py PyAny> {
    // SAFETY: both pointers are live for the call; tp_descr_get returns a new reference or NULL
    // with an error set, as ``__get__`` does.
    unsafe {
        let getter = (*ffi::Py_TYPE(descriptor.as_ptr()))
            .tp_descr_get
            .ok_or_else(|| PyTypeError::new_err("a slot without a getter"))?;
        let got = getter(descriptor.as_ptr(), obj.as_ptr(), std::ptr::null_mut());
        py.from_owned_ptr_or_err(got)
    }
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

/// profilesync.parallel_normalise's ``_reduce_model``: ``(reassemble, (cls, model.__dict__,
/// None))`` for a model that holds its class's shared set of fields and no private or extra
/// values, else ``model.__reduce__()`` (core.schema_base's ``_Frozen.__reduce__``).
#[pyfunction]
pub fn reduce_model(py: Python<'_>, model: &PyAny) -> PyResult<PyObject> {
    let found = models(py)?;
    let cls = model.get_type();
    if let Some(shared) = found.all_fields.as_ref(py).get_item(cls) {
        if get_through(py, &found.slots[1], model)?.is(shared)
            && get_through(py, &found.slots[3], model)?.is_none()
            && get_through(py, &found.slots[2], model)?.is_none()
        {
            let values = get_through(py, &found.slots[0], model)?;
            let args = PyTuple::new(py, [cls.as_ref(), values, none_of(py)]);
            return Ok(PyTuple::new(py, [found.reassemble.as_ref(py), args.as_ref()]).into());
        }
    }
    Ok(model.call_method0(intern!(py, "__reduce__"))?.into())
}

fn none_of(py: Python<'_>) -> &PyAny {
    py.None().into_ref(py)
}
