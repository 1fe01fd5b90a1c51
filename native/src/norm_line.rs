//! The normalising worker's record from the line's bytes: connectors.jsonl's ``line_outcome``
//! (the JSON parse and ``_draft_from_json``'s draft) and the one compiled call a record
//! (norm_record.rs) in one call, with no Python frame, for the lines norm_line_json.rs reads byte
//! for byte; ``None`` for every other line, which the worker (profilesync.parallel_lines) then
//! reads by the Python path as before. The oracle: tests/unit/test_native31w_line_parity.py.
//!
//! The draft is the one ``_draft_from_json`` makes, field for field and in its order (the Python
//! normaliser, which norm_record.rs calls for a record it declines, reads it as it reads the
//! Python path's): taken here are the lines of a plain record (``source`` a text that is not
//! empty, or absent; ``object_type`` a text that is not empty, or absent; no ``owner_id`` or
//! ``owner_type``), whose draft has no ``problem``; a line that would have one goes to Python.

use pyo3::ffi;
use pyo3::intern;
use pyo3::once_cell::GILOnceCell;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySet, PyString, PyType};
use pyo3::AsPyPointer;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::norm_line_json::{read_object, NotTaken};
use crate::norm_record::exact_text;

/// connectors.jsonl's ``_RESERVED``: the names that are not traits.
const RESERVED: [&str; 10] = [
    "source", "id", "object_type", "updated_at", "email", "phone", "consent", "orders", "owner_id", "owner_type",
];

struct Line {
    decimal: PyObject,
    draft: Py<PyType>,
    /// connectors.jsonl's ``_GIVEN``: the draft's fields set (a copy each, as Python makes).
    given: PyObject,
    max_line_chars: usize,
}

static LINE: GILOnceCell<Line> = GILOnceCell::new();

fn line_known(py: Python<'_>) -> PyResult<&Line> {
    if let Some(found) = LINE.get(py) {
        return Ok(found);
    }
    let jsonl = py.import("connectors.jsonl")?;
    let found = Line {
        decimal: py.import("decimal")?.getattr("Decimal")?.into(),
        draft: py.import("core.schema")?.getattr("RecordDraft")?.downcast::<PyType>()?.into(),
        given: jsonl.getattr("_GIVEN")?.into(),
        max_line_chars: jsonl.getattr("MAX_LINE_CHARS")?.extract()?,
    };
    let _ = LINE.set(py, found);
    Ok(LINE.get(py).expect("set above"))
}

/// ``_as_list(value)``: ``[]`` for None, a copy of a list, else ``[value]``.
fn as_list<'p>(py: Python<'p>, value: Option<&'p PyAny>) -> PyResult<&'p PyList> {
    match value {
        None => Ok(PyList::empty(py)),
        Some(found) if found.is_none() => Ok(PyList::empty(py)),
        Some(found) => match found.downcast::<PyList>() {
            Ok(list) => Ok(PyList::new(py, list.iter())),
            Err(_) => Ok(PyList::new(py, [found])),
        },
    }
}

/// A text that is not empty (what ``data.get(name) or default`` keeps as it is).
fn given_text(value: &PyAny) -> Option<&PyString> {
    exact_text(value).filter(|text| text.len().map_or(false, |n| n > 0))
}

/// ``_draft_from_json(data)``'s draft of a plain record, or ``NotTaken``.
fn draft<'p>(py: Python<'p>, line: &'p Line, data: &'p PyDict, default_source: &'p PyString) -> Result<&'p PyAny, NotTaken> {
    // ``if not data.get("source"): data = {**data, "source": default_source}`` (the key at the end)
    let source: &PyString = match data.get_item(intern!(py, "source")) {
        None => {
            data.set_item(intern!(py, "source"), default_source)?;
            default_source
        }
        Some(given) => given_text(given).ok_or(NotTaken)?,
    };
    let object_type: &PyAny = match data.get_item(intern!(py, "object_type")) {
        None => intern!(py, "contact"),
        Some(given) if given.is_none() => intern!(py, "contact"),
        Some(given) => given_text(given).ok_or(NotTaken)?,
    };
    for owner in [intern!(py, "owner_id"), intern!(py, "owner_type")] {
        if data.get_item(owner).map_or(false, |value| !value.is_none()) {
            return Err(NotTaken); // a child, or a problem: the Python path's
        }
    }
    // ``_id_text``: an integer id as its text (every integer read here fits 64 bits)
    let source_id: &PyAny = match data.get_item(intern!(py, "id")) {
        None => py.None().into_ref(py),
        // SAFETY: a live object; PyLong_CheckExact reads its type (a bool is not an exact int).
        Some(id) if unsafe { ffi::PyLong_CheckExact(id.as_ptr()) } != 0 => id.str()?.as_ref(),
        Some(id) => id,
    };
    let none = py.None();
    let none = none.as_ref(py);
    let traits = PyDict::new(py);
    for (name, value) in data.iter() {
        let reserved = match name.downcast::<PyString>() {
            Ok(text) => RESERVED.contains(&text.to_str()?),
            Err(_) => false,
        };
        if !reserved {
            traits.set_item(name, value)?;
        }
    }
    let consent: &PyAny = match data.get_item(intern!(py, "consent")) {
        Some(found) if found.downcast::<PyDict>().is_ok() => found,
        _ => PyDict::new(py),
    };
    let orders: &PyAny = match data.get_item(intern!(py, "orders")) {
        Some(found) if found.downcast::<PyList>().is_ok() => found,
        other => as_list(py, other)?,
    };
    let fields = PyDict::new(py);
    fields.set_item(intern!(py, "source"), source)?;
    fields.set_item(intern!(py, "object_type"), object_type)?;
    fields.set_item(intern!(py, "source_id"), source_id)?;
    fields.set_item(intern!(py, "updated_at"), data.get_item(intern!(py, "updated_at")).unwrap_or(none))?;
    fields.set_item(intern!(py, "emails"), as_list(py, data.get_item(intern!(py, "email")))?)?;
    fields.set_item(intern!(py, "phones"), as_list(py, data.get_item(intern!(py, "phone")))?)?;
    fields.set_item(intern!(py, "traits"), traits)?;
    fields.set_item(intern!(py, "consent"), consent)?;
    fields.set_item(intern!(py, "orders"), orders)?;
    fields.set_item(intern!(py, "owner_type"), none)?;
    fields.set_item(intern!(py, "owner_id"), none)?;
    fields.set_item(intern!(py, "same_person_as_owner"), false)?;
    fields.set_item(intern!(py, "undated"), false)?;
    fields.set_item(intern!(py, "deleted"), false)?;
    fields.set_item(intern!(py, "problem"), none)?;
    fields.set_item(intern!(py, "raw"), data)?;
    let fields_set = py.get_type::<PySet>().call1((line.given.as_ref(py),))?; // ``set(_GIVEN)``
    let made = crate::worker_handover::reassemble(py, line.draft.as_ref(py), fields, fields_set)?;
    Ok(made.into_ref(py))
}

/// The lines ``normalise_line`` read itself and those it left to the Python path.
static TAKEN: AtomicUsize = AtomicUsize::new(0);
static DECLINED: AtomicUsize = AtomicUsize::new(0);

/// ``normalise_record(line_outcome(number, raw.decode(), ...), options)`` for a line of a plain
/// record (``raw`` its bytes, with their ``\n`` or ``\r\n``; ``default_source`` the reader's),
/// or None: the Python path reads that line (a blank line, a line to quarantine, any shape this
/// call does not take byte for byte).
#[pyfunction]
pub fn normalise_line(py: Python<'_>, raw: &[u8], default_source: &PyString, options: &PyAny) -> PyResult<Option<PyObject>> {
    let line = line_known(py)?;
    let body = raw
        .strip_suffix(b"\r\n")
        .or_else(|| raw.strip_suffix(b"\n"))
        .unwrap_or(raw);
    // (a character is at least a byte: a line within the limit in bytes is within it in characters)
    let read = if raw.len() > line.max_line_chars {
        Err(NotTaken)
    } else {
        read_object(py, body, line.decimal.as_ref(py)).and_then(|data| draft(py, line, data, default_source))
    };
    match read {
        Ok(made) => {
            TAKEN.fetch_add(1, Ordering::Relaxed);
            crate::norm_record::normalise_record(py, made, options).map(Some)
        }
        Err(NotTaken) => {
            DECLINED.fetch_add(1, Ordering::Relaxed);
            Ok(None)
        }
    }
}

/// ``(taken, declined)``: the lines ``normalise_line`` read itself and those it left to the
/// Python path, in this process so far (for the parity tests and the bench).
#[pyfunction]
pub fn normalise_line_counts() -> (usize, usize) {
    (TAKEN.load(Ordering::Relaxed), DECLINED.load(Ordering::Relaxed))
}
