//! The identifier loop of a new customer's records and its IDENT and HOLDER rows: byte for byte
//! what core.ingest_fresh's ``_identifier_loop`` and ``_ident_holder_rows`` build (their oracle:
//! tests/unit/test_native28r_rows_parity.py).
//!
//! As in lib.rs, every function returns exactly the Python path's values or raises, and
//! core.ingest_native then runs the Python path for that group. What is Python's own logic (the
//! blocklist's patterns, a key's holder under the limits, an email's mailbox markers, a content
//! run other than a one-time record's) is called back, in the order the Python loop calls it, so
//! the memos a record keeps (its ``key``, its hash) are left in the same order.

use pyo3::basic::CompareOp;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

/// The reason of a guardrail hit on a blocklisted value (core.ingest_fresh's ``_BLOCKED``).
const BLOCKED: &str = "blocklisted value";
/// ``core.ingest_runs.OBSERVED_MEMO``: the versions a record stands for, when it is not one.
const OBSERVED_MEMO: &str = "_observed";
/// ``core.content_run.ONE_TIME``: the run of a record of one version, stamped at its own time.
const ONE_TIME: &str = "1";

/// Code points, as Python's ``len`` of a ``str`` counts them.
fn chars(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// A kind's limit (``limits[kind]``), looked up once per call: a call sees a few kinds.
fn limit_of<'p>(
    cache: &mut Vec<(&'p str, Option<&'p PyAny>)>,
    limits: &'p PyAny,
    kind: &'p str,
) -> PyResult<Option<&'p PyAny>> {
    if let Some((_, found)) = cache.iter().find(|(known, _)| *known == kind) {
        return Ok(*found);
    }
    let found = if limits.contains(kind)? {
        Some(limits.get_item(kind)?)
    } else {
        None
    };
    cache.push((kind, found));
    Ok(found)
}

/// core.ingest_fresh's ``_identifier_loop``: ``(hits, desired, markers, longest, longest_ident)``,
/// or None when the guardrails would refuse a key (``past_limit`` says so for a key more records
/// than its limit may hold). ``blocked`` is the batch's answers of the blocklist by key, filled
/// in by ``is_blocked`` for a key it has none for; ``hit`` is ``GuardrailHit``. The keys are the
/// identifiers' own ``str`` objects, deduplicated by Python dicts (their hashes are kept in them).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn identifier_loop(
    py: Python<'_>,
    group: &PyList,
    blocked: &PyDict,
    is_blocked: &PyAny,
    limits: &PyAny,
    past_limit: &PyAny,
    marker_keys: &PyAny,
    hit: &PyAny,
) -> PyResult<Option<(PyObject, PyObject, PyObject, usize, usize)>> {
    let hits = PyList::empty(py);
    let usable = PyDict::new(py); // the keys the customer takes
    let mut desired: Vec<(&str, &PyAny)> = Vec::new();
    // per limited key, the records that may hold it, in order of first sight
    let holder_at = PyDict::new(py);
    let mut holders: Vec<(&str, usize)> = Vec::new();
    let mut kinds: Vec<(&str, Option<&PyAny>)> = Vec::new();
    let mut longest = 0usize;
    for record in group.iter() {
        let record_key = record.getattr(intern!(py, "key"))?;
        longest = longest.max(chars(record_key.downcast::<PyString>()?.to_str()?));
        for ident in record.getattr(intern!(py, "identifiers"))?.iter()? {
            let ident = ident?;
            let key_obj = ident.getattr(intern!(py, "key"))?;
            let key = key_obj.downcast::<PyString>()?.to_str()?;
            let kind = ident
                .getattr(intern!(py, "kind"))?
                .downcast::<PyString>()?
                .to_str()?;
            if kind == "source" {
                if !usable.contains(key_obj)? {
                    usable.set_item(key_obj, py.None())?;
                    desired.push((key, key_obj));
                }
                continue;
            }
            let refused = match blocked.get_item(key_obj) {
                Some(known) => known,
                None => {
                    let answer = is_blocked.call1((ident,))?;
                    blocked.set_item(key_obj, answer)?;
                    answer
                }
            };
            if refused.is_true()? {
                hits.append(hit.call1((record_key, key_obj, BLOCKED))?)?;
                continue;
            }
            if !usable.contains(key_obj)? {
                usable.set_item(key_obj, py.None())?;
                desired.push((key, key_obj));
            }
            // (a guest child may hold it too, and so may a child of its own person, a converted
            // lead: a child with an owner has an email or a phone only then, core.identity_holders)
            if limit_of(&mut kinds, limits, kind)?.is_some() {
                match holder_at.get_item(key_obj) {
                    Some(at) => holders[at.extract::<usize>()?].1 += 1,
                    None => {
                        holder_at.set_item(key_obj, holders.len())?;
                        holders.push((key, 1));
                    }
                }
            }
        }
    }
    for (key, count) in &holders {
        let prefix = key.split_once('#').map_or(*key, |(kind, _)| kind);
        let limit = match limit_of(&mut kinds, limits, prefix)? {
            Some(limit) => limit,
            None => limits.get_item(prefix)?, // raises KeyError, as ``limits[...]`` does
        };
        let over = count
            .to_object(py)
            .as_ref(py)
            .rich_compare(limit, CompareOp::Gt)?
            .is_true()?;
        if over && past_limit.call1((group, *key, limits))?.is_true()? {
            return Ok(None); // the guardrails would refuse the key: components are the planner's
        }
    }
    // UTF-8's byte order is the code points' (Python's ``sorted``); the keys are distinct
    desired.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let seen = PyDict::new(py);
    let mut markers: Vec<&PyAny> = Vec::new();
    let mut longest_ident = 0usize;
    for (key, _) in &desired {
        longest_ident = longest_ident.max(chars(key));
        if key.starts_with("email#") {
            for marker in marker_keys.call1((*key,))?.iter()? {
                let marker = marker?;
                if !seen.contains(marker)? {
                    seen.set_item(marker, py.None())?;
                    longest_ident =
                        longest_ident.max(chars(marker.downcast::<PyString>()?.to_str()?));
                    markers.push(marker);
                }
            }
        }
    }
    let desired = PyList::new(py, desired.iter().map(|(_, key)| *key));
    Ok(Some((
        hits.into(),
        desired.into(),
        PyList::new(py, markers).into(),
        longest,
        longest_ident,
    )))
}

/// A record's watermark and ``run`` attribute as its IDENT item writes them
/// (``core.ingest_runs.written_item(snapshot, None)``): a dated record of one version, ordered at
/// its own time, is ``(updated_at.isoformat(), "1")`` here; any other asks ``written_item``.
fn written<'p>(
    py: Python<'p>,
    snap: &'p PyAny,
    kept: &'p PyDict,
    written_item: &'p PyAny,
) -> PyResult<(&'p PyAny, &'p PyAny)> {
    let one = kept.get_item(intern!(py, OBSERVED_MEMO)).is_none()
        && !snap.getattr(intern!(py, "undated"))?.is_true()?;
    if one {
        let updated = snap.getattr(intern!(py, "updated_at"))?;
        let read = snap.getattr(intern!(py, "read_at"))?;
        if read.is_none() || read.rich_compare(updated, CompareOp::Ge)?.is_true()? {
            return Ok((updated, intern!(py, ONE_TIME)));
        }
    }
    let found: &PyTuple = written_item.call1((snap, py.None()))?.downcast()?;
    Ok((found.get_item(0)?, found.get_item(1)?))
}

/// core.ingest_fresh's ``_ident_holder_rows``: the IDENT rows of the ``desired`` keys (a
/// ``source#`` key of a record of the group, ``by_key``, with its hash and run), the HOLDER rows
/// of the ``markers`` (none for a scratch store), and the characters they count against the
/// limits. ``record_hash`` and ``written_item`` are core's, called as the Python loop calls them.
#[pyfunction]
pub fn ident_holder_rows(
    py: Python<'_>,
    desired: &PyList,
    markers: &PyList,
    by_key: &PyDict,
    survivor: &PyString,
    scratch: bool,
    record_hash: &PyAny,
    written_item: &PyAny,
) -> PyResult<(PyObject, PyObject, usize)> {
    let idents = PyList::empty(py);
    let mut chars_counted = 0usize;
    let none = py.None();
    let survivor_obj: PyObject = survivor.into();
    for key_obj in desired.iter() {
        let key = key_obj.downcast::<PyString>()?.to_str()?;
        let ident_key: PyObject = PyString::new(py, &format!("IDENT#{key}")).into();
        let snap = match key.strip_prefix("source#") {
            Some(record_key) => by_key.get_item(record_key),
            None => None,
        };
        match snap {
            None => {
                // not a source key, or a child's link to an owner not in the group
                let row = [
                    ident_key,
                    none.clone_ref(py),
                    survivor_obj.clone_ref(py),
                    none.clone_ref(py),
                    none.clone_ref(py),
                ];
                idents.append(PyTuple::new(py, row))?;
                chars_counted += chars(key);
            }
            Some(snap) => {
                let kept: &PyDict = snap.getattr(intern!(py, "__dict__"))?.downcast()?;
                let hash = match kept.get_item(intern!(py, "_record_hash")) {
                    Some(memo) if !memo.is_none() => memo,
                    _ => record_hash.call1((snap,))?,
                };
                let (last, run) = written(py, snap, kept, written_item)?;
                let moment = last.call_method0(intern!(py, "isoformat"))?;
                hash.downcast::<PyString>()?;
                moment.downcast::<PyString>()?;
                run.downcast::<PyString>()?;
                chars_counted += chars(key) + hash.len()? + moment.len()? + run.len()?;
                let row = [
                    ident_key,
                    hash.into(),
                    survivor_obj.clone_ref(py),
                    moment.into(),
                    run.into(),
                ];
                idents.append(PyTuple::new(py, row))?;
            }
        }
    }
    let held = PyList::empty(py);
    let holder: PyObject = PyString::new(py, &format!("HOLDER#{}", survivor.to_str()?)).into();
    for mailbox in markers.iter() {
        let text = mailbox.downcast::<PyString>()?.to_str()?;
        if !scratch {
            let row = [
                PyString::new(py, &format!("IDENT#{text}")).into(),
                holder.clone_ref(py),
                survivor_obj.clone_ref(py),
            ];
            held.append(PyTuple::new(py, row))?;
        }
        chars_counted += chars(text);
    }
    Ok((idents.into(), held.into(), chars_counted))
}
