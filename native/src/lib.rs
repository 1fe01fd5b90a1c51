//! profilesync's compiled common path: the rows of a new customer's records, byte for byte what
//! core.ingest_fresh's Python writes (its oracle: tests/unit/test_rust27_native_parity.py).
//!
//! Every function here returns exactly the Python path's values or raises; core.ingest_native
//! catches any error and runs the Python path instead (a key that is not UTF-8, a memo that is not
//! text), so a record this code cannot take byte for byte is written as before.

mod batch;
mod batch_marks;
mod batch_items;
mod norm_assemble;
mod norm_email;
mod norm_line;
mod norm_line_json;
mod norm_order;
mod norm_record;
mod norm_record_parts;
mod out_line;
mod profile;
mod profile_computed;
mod rows;
mod worker;
mod worker_handover;

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// The reason of a ``source_arrived`` event (core.ingest_fresh's ``_ARRIVED``).
const ARRIVED: &str = "a new record";

/// ``core.identity.customer_id_for``: ``cus_`` and the 96-bit BLAKE2b digest of the key in
/// lower-case RFC 4648 base32 without padding (20 characters: 96 bits and 4 zero bits).
#[pyfunction]
fn customer_id(source_key: &str) -> String {
    customer_id_of(source_key)
}

pub(crate) fn customer_id_of(source_key: &str) -> String {
    let digest = blake2b_simd::Params::new()
        .hash_length(12)
        .hash(source_key.as_bytes());
    let mut n: u128 = 0;
    for byte in digest.as_bytes() {
        n = (n << 8) | u128::from(*byte);
    }
    n <<= 4;
    let mut out = String::with_capacity(24);
    out.push_str("cus_");
    for chunk in (0..20).rev() {
        out.push(BASE32[((n >> (5 * chunk)) & 31) as usize] as char);
    }
    out
}

/// ``text`` as a JSON string as pydantic writes it: pydantic-core serialises strings through
/// serde_json, so this is the same escaping by construction (held to pydantic by the oracle).
#[pyfunction]
fn json_string(text: &str) -> PyResult<String> {
    serde_json::to_string(text).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// BLAKE2b of ``data`` with ``digest_size`` bytes, in hex: ``hashlib.blake2b(data,
/// digest_size=n).hexdigest()``.
#[pyfunction]
fn blake2b_hex(data: &[u8], digest_size: usize) -> PyResult<String> {
    if digest_size == 0 || digest_size > 64 {
        return Err(PyValueError::new_err("digest_size must be 1 to 64"));
    }
    Ok(blake2b_simd::Params::new()
        .hash_length(digest_size)
        .hash(data)
        .to_hex()
        .to_string())
}

/// ``core.governance.history.quotes_identifier("a new record", (key,))``: whether the event's
/// reason quotes the record's id. Python's ``str.lower`` is asked for a value that is not ASCII
/// (its case folding of other scripts is Python's own).
pub(crate) fn quotes_arrived(py: Python<'_>, key: &str) -> PyResult<bool> {
    let value = match key.split_once('#') {
        Some((_, after)) => after,
        None => key.rsplit_once(':').map_or(key, |(_, after)| after),
    };
    if value.is_ascii() {
        return Ok(value.len() >= 3 && ARRIVED.contains(&value.to_ascii_lowercase()));
    }
    if value.chars().count() < 3 {
        return Ok(false);
    }
    let lowered = PyString::new(py, value).call_method0(intern!(py, "lower"))?;
    let lowered: &str = lowered.downcast::<PyString>()?.to_str()?;
    Ok(ARRIVED.contains(lowered))
}

/// The part of core.ingest_fresh's ``_rows`` that writes one group's SOURCE rows and
/// ``source_arrived`` events: ``(sources, events, by_key, chars)`` as the Python loop builds them
/// (``events`` empty for a scratch store, which writes none; ``chars`` what the loop counts
/// against the limits, in code points as Python's ``len``). ``record_hash`` and ``record_json``
/// are core.content_hash's and core.record_json's functions, called only for a record that
/// arrives without their memo (in that order, as the Python loop calls them).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn source_event_rows(
    py: Python<'_>,
    group: &PyList,
    record_hash: &PyAny,
    record_json: &PyAny,
    survivor: &str,
    cid_json: &str,
    at_json: &str,
    actor_json: &str,
    sort_prefix: &str,
    id_time: &str,
    fixed: usize,
    scratch: bool,
) -> PyResult<(PyObject, PyObject, PyObject, usize)> {
    let pk: &PyAny = PyString::new(py, &format!("CUSTOMER#{survivor}"));
    let sources = PyList::empty(py);
    let events = PyList::empty(py);
    let by_key = PyDict::new(py);
    let mut chars = 0usize;
    let mut text = String::with_capacity(256);
    for record in group.iter() {
        let key_obj = record.getattr(intern!(py, "key"))?;
        let key: &str = key_obj.downcast::<PyString>()?.to_str()?;
        by_key.set_item(key_obj, record)?;
        let kept: &PyDict = record.getattr(intern!(py, "__dict__"))?.downcast()?;
        let hash_obj = match kept.get_item(intern!(py, "_record_hash")) {
            Some(memo) => memo,
            None => record_hash.call1((record,))?,
        };
        let snapshot = match kept.get_item(intern!(py, "_record_json")) {
            Some(memo) => memo,
            None => record_json.call1((record,))?,
        };
        let hash: &str = hash_obj.downcast::<PyString>()?.to_str()?;
        snapshot.downcast::<PyString>()?;
        let sort_key = PyString::new(py, &format!("SOURCE#{key}"));
        sources.append(PyTuple::new(py, [pk, sort_key, hash_obj, snapshot]))?;
        let reason = if quotes_arrived(py, key)? { "" } else { ARRIVED };
        let key_json = serde_json::to_string(key).map_err(|e| PyValueError::new_err(e.to_string()))?;
        chars += fixed + reason.len() + key_json.chars().count();
        if !scratch {
            let texts = [survivor, cid_json, at_json, actor_json, id_time];
            let (eid, event) = batch_items::arrived_event(&mut text, texts, key, hash, reason, &key_json);
            let row = PyTuple::new(
                py,
                [
                    pk,
                    PyString::new(py, &format!("{sort_prefix}{eid}")),
                    PyString::new(py, &event),
                ],
            );
            events.append(row)?;
        }
        chars += key_obj.len()? + hash_obj.len()? + snapshot.len()?;
    }
    Ok((sources.into(), events.into(), by_key.into(), chars))
}

#[pymodule]
fn profilesync_native(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(customer_id, m)?)?;
    m.add_function(wrap_pyfunction!(json_string, m)?)?;
    m.add_function(wrap_pyfunction!(blake2b_hex, m)?)?;
    m.add_function(wrap_pyfunction!(source_event_rows, m)?)?;
    m.add_function(wrap_pyfunction!(rows::identifier_loop, m)?)?;
    m.add_function(wrap_pyfunction!(profile::new_profile, m)?)?;
    m.add_function(wrap_pyfunction!(rows::ident_holder_rows, m)?)?;
    m.add_function(wrap_pyfunction!(worker::record_json_and_hash, m)?)?;
    m.add_function(wrap_pyfunction!(worker_handover::reassemble, m)?)?;
    m.add_function(wrap_pyfunction!(norm_assemble::assemble_model, m)?)?;
    m.add_function(wrap_pyfunction!(norm_email::normalise_email, m)?)?;
    m.add_function(wrap_pyfunction!(norm_order::order, m)?)?;
    m.add_function(wrap_pyfunction!(norm_record::normalise_record, m)?)?;
    m.add_function(wrap_pyfunction!(norm_record::normalise_record_counts, m)?)?;
    m.add_function(wrap_pyfunction!(norm_line::normalise_line, m)?)?;
    m.add_function(wrap_pyfunction!(norm_line::normalise_line_counts, m)?)?;
    m.add_class::<batch::FreshRows>()?;
    m.add_function(wrap_pyfunction!(out_line::profile_lines, m)?)?;
    Ok(())
}
