//! The normalising worker's orders: core.normalise._money's ``_order`` for an order of the common
//! shape (a dict of text values, an ASCII id with no space around it, no status or one already
//! canonical), without its Python frame; the amount, the time and the payment references are
//! still read by the Python normalisers (and their caches), and every other order, and any value
//! they refuse, goes to ``_order_general``, which says why. The oracle:
//! tests/unit/test_native29n_order_parity.py.

use pyo3::ffi;
use pyo3::intern;
use pyo3::once_cell::GILOnceCell;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use pyo3::AsPyPointer;

struct Orders {
    statuses: Py<PyDict>,
    money: PyObject,
    time: PyObject,
    refs: PyObject,
    general: PyObject,
    error: Py<PyType>,
    order: Py<PyType>,
    max_id: usize,
}

static ORDERS: GILOnceCell<Orders> = GILOnceCell::new();

fn orders(py: Python<'_>) -> PyResult<&Orders> {
    if let Some(found) = ORDERS.get(py) {
        return Ok(found);
    }
    let money = py.import("core.normalise._money")?;
    let found = Orders {
        statuses: money.getattr("_ORDER_STATUSES")?.downcast::<PyDict>()?.into(),
        money: money.getattr("normalise_money")?.into(),
        time: money.getattr("normalise_timestamp")?.into(),
        refs: money.getattr("normalise_payment_refs")?.into(),
        general: money.getattr("_order_general")?.into(),
        error: money.getattr("NormalisationError")?.downcast::<PyType>()?.into(),
        order: money.getattr("Order")?.downcast::<PyType>()?.into(),
        max_id: money.getattr("MAX_ORDER_ID_CHARS")?.extract()?,
    };
    let _ = ORDERS.set(py, found);
    Ok(ORDERS.get(py).expect("set above"))
}

/// ``raw.get(key)`` of an exact dict: None when absent, an error when the lookup raises.
fn get<'p>(py: Python<'p>, raw: &'p PyDict, key: &PyString) -> PyResult<Option<&'p PyAny>> {
    // SAFETY: both pointers are live; the result is a borrowed reference or NULL (with an error
    // set when the lookup raised).
    unsafe {
        let found = ffi::PyDict_GetItemWithError(raw.as_ptr(), key.as_ptr());
        if found.is_null() {
            return match PyErr::take(py) {
                Some(error) => Err(error),
                None => Ok(None),
            };
        }
        Ok(Some(py.from_borrowed_ptr(found)))
    }
}

/// ``value`` when it is an exact ``str``.
fn exact_text(value: Option<&PyAny>) -> Option<&PyString> {
    let value = value?;
    // SAFETY: a live object; PyUnicode_CheckExact reads its type.
    if unsafe { ffi::PyUnicode_CheckExact(value.as_ptr()) } != 0 {
        value.downcast::<PyString>().ok()
    } else {
        None
    }
}

/// ``core.normalise._money._order(raw)``.
#[pyfunction]
pub fn order(py: Python<'_>, raw: &PyAny) -> PyResult<PyObject> {
    let found = orders(py)?;
    // SAFETY: a live object; PyDict_CheckExact reads its type.
    if unsafe { ffi::PyDict_CheckExact(raw.as_ptr()) } == 0 {
        return found.general.call1(py, (raw,));
    }
    let dict: &PyDict = raw.downcast()?;
    let order_id = get(py, dict, intern!(py, "id"))?;
    let total = get(py, dict, intern!(py, "total"))?;
    let currency = get(py, dict, intern!(py, "currency"))?;
    let created = get(py, dict, intern!(py, "created_at"))?;
    let status_raw = get(py, dict, intern!(py, "status"))?;
    let mut status: Option<&PyAny> = Some(intern!(py, "paid"));
    if let Some(given) = status_raw.filter(|value| !value.is_none()) {
        status = match exact_text(Some(given)) {
            Some(text) => found.statuses.as_ref(py).get_item(text),
            None => None,
        };
    }
    let (status, id_text, total, currency, created) = match (
        status,
        exact_text(order_id),
        exact_text(total),
        exact_text(currency),
        exact_text(created),
    ) {
        (Some(a), Some(b), Some(c), Some(d), Some(e)) => (a, b, c, d, e),
        _ => return found.general.call1(py, (raw,)),
    };
    // (an id holding a lone surrogate is not UTF-8: ``_order_general`` says why, as Python does)
    let id = match id_text.to_str() {
        Ok(text) => text,
        Err(_) => return found.general.call1(py, (raw,)),
    };
    let bytes = id.as_bytes();
    // (ASCII: its characters are its bytes, and ``len`` counts them)
    if !(id.is_ascii() && !bytes.is_empty() && bytes.len() <= found.max_id && bytes[0] > b' ' && bytes[bytes.len() - 1] > b' ') {
        return found.general.call1(py, (raw,));
    }
    let read = || -> PyResult<(PyObject, PyObject, PyObject)> {
        let money = found.money.call1(py, (total, currency))?;
        let created_at = found.time.call1(py, (created,))?;
        let payment_refs: PyObject = match get(py, dict, intern!(py, "payment_refs"))? {
            Some(refs) if !refs.is_none() => found.refs.call1(py, (refs,))?,
            _ => PyTuple::empty(py).into(),
        };
        Ok((money, created_at, payment_refs))
    };
    let (money, created_at, payment_refs) = match read() {
        Ok(values) => values,
        Err(error) if error.is_instance(py, found.error.as_ref(py)) => {
            return found.general.call1(py, (raw,));
        }
        Err(error) => return Err(error),
    };
    let money: &PyTuple = money.as_ref(py).downcast()?;
    let (amount, code) = (money.get_item(0)?, money.get_item(1)?);
    let mut status = status;
    if status.downcast::<PyString>()?.to_str()? == "paid" && amount.lt(0)? {
        status = intern!(py, "refunded");
    }
    let values = PyDict::new(py);
    values.set_item(intern!(py, "id"), id_text)?;
    values.set_item(intern!(py, "total"), amount)?;
    values.set_item(intern!(py, "currency"), code)?;
    values.set_item(intern!(py, "created_at"), created_at)?;
    values.set_item(intern!(py, "status"), status)?;
    values.set_item(intern!(py, "payment_refs"), payment_refs)?;
    crate::worker_handover::reassemble(py, found.order.as_ref(py), values, py.None().as_ref(py))
}
