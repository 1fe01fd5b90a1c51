//! The normalising worker's per-record work (profilesync.parallel_normalise), byte for byte what
//! core.record_json's Python does (its oracle: tests/unit/test_native28w_worker_parity.py).
//!
//! ``record_json_and_hash`` keeps a normalised record's JSON and content hash with it: the JSON is
//! pydantic's own serialiser's (called here, as the Python path calls it), the hash's bytes are cut
//! out of it as ``core.record_json._hash_body`` cuts them and hashed with BLAKE2b here. Any value
//! this code cannot take as the Python path does raises before the record is touched, and
//! profilesync.resolve_native then runs the Python path for that record.

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

const UPDATED_AT: &[u8] = b",\"updated_at\":\"";
/// The end of a person's record (no owner, no summary) up to ``read_at``'s value
/// (core.record_json's ``_PERSON_TAIL``).
const PERSON_TAIL: &[u8] = b",\"level\":\"person\",\"owner\":null,\"order_summary\":null,\"read_at\":";
const READ_AT: &[u8] = b",\"read_at\":";
const CHANGED_AT: &[u8] = b",\"changed_at\":\"";
const GRANTED_TRUE: &[u8] = b"{\"granted\":true";
const GRANTED_FALSE: &[u8] = b"{\"granted\":false";
const MARK: &[u8] = b",\"dated_by_record\":true}";

/// ``haystack.find(needle, start)``: the first occurrence at or after ``start``.
fn find(haystack: &[u8], needle: &[u8], start: usize) -> Option<usize> {
    if start > haystack.len() || needle.len() > haystack.len() - start {
        return None;
    }
    haystack[start..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + start)
}

/// ``haystack.rfind(needle, start)``: the last occurrence wholly within ``haystack[start:]``.
fn rfind(haystack: &[u8], needle: &[u8], start: usize) -> Option<usize> {
    if start > haystack.len() || needle.len() > haystack.len() - start {
        return None;
    }
    haystack[start..]
        .windows(needle.len())
        .rposition(|window| window == needle)
        .map(|at| at + start)
}

/// ``bytes.replace(old, new)``: every occurrence, left to right, none overlapping.
fn replace(text: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = find(text, old, at) {
        out.extend_from_slice(&text[at..found]);
        out.extend_from_slice(new);
        at = found + old.len();
    }
    out.extend_from_slice(&text[at..]);
    out
}

fn joined(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The bytes ``record_hash`` hashes, cut out of ``body`` (the record's JSON), or None when they
/// cannot be: core.record_json's ``_hash_body``, step for step.
fn hash_body(py: Python<'_>, fields: &PyDict, body: &[u8]) -> PyResult<Option<Vec<u8>>> {
    let start = match find(body, UPDATED_AT, 0) {
        Some(start) => start,
        None => return Ok(None),
    };
    let after = start + UPDATED_AT.len();
    let end = match find(body, b"\"", after) {
        Some(quote) => quote + 1,
        None => return Err(PyValueError::new_err("subsection not found")),
    };
    let field = |name: &str| -> PyResult<&PyAny> {
        fields
            .get_item(name)
            .ok_or_else(|| PyValueError::new_err(format!("no field {name}")))
    };
    // ``fields["level"] == "person" and fields["owner"] is None and ...``, short-circuiting.
    let person = field("level")?.eq("person")?
        && field("owner")?.is_none()
        && field("order_summary")?.is_none();
    let cut = match rfind(body, if person { PERSON_TAIL } else { READ_AT }, end) {
        Some(cut) => cut,
        None => return Ok(None),
    };
    let consent = field("consent")?;
    if consent.is_true()? {
        let consent: &PyDict = consent.downcast()?;
        let at = field("updated_at")?;
        let mut defaulted = false;
        let mut marked = false;
        for state in consent.values() {
            let changed_at = state.getattr(intern!(py, "changed_at"))?;
            if changed_at.rich_compare(at, CompareOp::Eq)?.is_true()? {
                if !changed_at.is(at) {
                    return Ok(None); // an equal time that may be written otherwise
                }
                defaulted = true;
                marked = marked || state.getattr(intern!(py, "dated_by_record"))?.is_true()?;
            } else if state.getattr(intern!(py, "dated_by_record"))?.is_true()? {
                return Ok(None); // a time carried from an earlier version
            }
        }
        if defaulted {
            let mut stamp = joined(&[CHANGED_AT, &body[after..end - 1], b"\""]);
            let mut rest = body[end..cut].to_vec();
            let plain_true = joined(&[GRANTED_TRUE, b"}"]);
            let plain_false = joined(&[GRANTED_FALSE, b"}"]);
            rest = replace(&rest, &joined(&[GRANTED_TRUE, &stamp, b"}"]), &plain_true);
            rest = replace(&rest, &joined(&[GRANTED_FALSE, &stamp, b"}"]), &plain_false);
            if marked {
                stamp.extend_from_slice(MARK);
                rest = replace(&rest, &joined(&[GRANTED_TRUE, &stamp]), &plain_true);
                rest = replace(&rest, &joined(&[GRANTED_FALSE, &stamp]), &plain_false);
            }
            return Ok(Some(joined(&[&body[..start], &rest, b"}"])));
        }
    }
    Ok(Some(joined(&[&body[..start], &body[end..cut], b"}"])))
}

/// ``core.record_json.record_json_and_hash(record)``: keep the record's JSON
/// (``_record_json``), its content hash (``_record_hash``) and the hashed bytes' length
/// (``_hashed_bytes``) in its ``__dict__``, in the order the Python path keeps them.
/// ``record_hash`` is core.content_hash's, called for a record whose hash's bytes cannot be cut
/// out of its JSON (as the Python path calls it). Nothing is kept unless everything was worked out.
#[pyfunction]
pub fn record_json_and_hash(py: Python<'_>, record: &PyAny, record_hash: &PyAny) -> PyResult<()> {
    let kept: &PyDict = record.getattr(intern!(py, "__dict__"))?.downcast()?;
    let json_key = intern!(py, "_record_json");
    let hash_key = intern!(py, "_record_hash");
    let has_hash = kept.contains(hash_key)?;
    if has_hash && kept.contains(json_key)? {
        return Ok(());
    }
    let serializer = record.getattr(intern!(py, "__pydantic_serializer__"))?;
    let body_obj = serializer.call_method1(intern!(py, "to_json"), (record,))?;
    let body: &[u8] = body_obj.downcast::<PyBytes>()?.as_bytes();
    let text = std::str::from_utf8(body).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let json = PyString::new(py, text);
    if !has_hash {
        match hash_body(py, kept, body)? {
            Some(hashed) => {
                let digest = blake2b_simd::Params::new().hash_length(16).hash(&hashed);
                let hex = PyString::new(py, digest.to_hex().as_str());
                kept.set_item(hash_key, hex)?;
                kept.set_item(intern!(py, "_hashed_bytes"), hashed.len())?;
            }
            None => {
                record_hash.call1((record,))?;
            }
        }
    }
    kept.set_item(json_key, json)?;
    Ok(())
}
