//! Parts of a new customer's items for batch.rs: a ``source_arrived`` event's id and JSON (lib.rs's
//! ``source_event_rows`` writes them with it too), and the IDENT row of one of its own records: the
//! record's watermark and content run as ``core.ingest_runs.written_item(snapshot, None)`` gives
//! them, the watermark as ``isoformat`` writes it (rows.rs's ``written``, the common time in Rust).

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDateAccess, PyDateTime, PyDict, PyString, PyTimeAccess, PyTuple};

use crate::profile::Zones;

/// ``core.ingest_runs.OBSERVED_MEMO``: the versions a record stands for, when it is not one.
const OBSERVED_MEMO: &str = "_observed";
/// ``core.content_run.ONE_TIME``: the run of a record of one version, stamped at its own time.
const ONE_TIME: &str = "1";

/// A ``source_arrived`` event's id and JSON; ``texts`` are the survivor, its JSON, the event's
/// time as JSON, the actor as JSON and the time of the event's id (``_Arrival.id_time``); ``text``
/// a buffer kept between calls.
pub(crate) fn arrived_event(
    text: &mut String,
    texts: [&str; 5],
    key: &str,
    hash: &str,
    reason: &str,
    key_json: &str,
) -> (String, String) {
    let [survivor, cid_json, at_json, actor_json, id_time] = texts;
    text.clear();
    text.push_str(survivor);
    text.push_str("\x1fsource_arrived\x1f");
    text.push_str(id_time);
    text.push('\x1f');
    text.push_str(key);
    text.push('\x1f');
    text.push_str(hash);
    let digest = blake2b_simd::Params::new().hash_length(10).hash(text.as_bytes());
    let eid = format!("sourc-{}", digest.to_hex());
    let event = format!(
        "{{\"customer_id\":{cid_json},\"event_id\":\"{eid}\",\"at\":{at_json},\
         \"kind\":\"source_arrived\",\"actor\":{actor_json},\"reason\":\"{reason}\",\
         \"source_keys\":[{key_json}],\"customers\":[],\"identifiers\":[],\
         \"handed_over\":[],\"inherited_from\":null}}"
    );
    (eid, event)
}

fn failed(what: &str) -> PyErr {
    PyValueError::new_err(format!("not the compiled rows' common case: {what}"))
}

/// ``written_item(snap, None)`` as its IDENT row writes it, ``(isoformat, run)``: a dated record
/// of one version read no earlier than its stamp is its own time and ``"1"`` (the time written
/// here as ``isoformat`` writes it, for an offset of whole minutes); any other asks Python.
pub(crate) fn written<'p>(
py: Python<'p>,
zones: &mut Zones<'p>,
snap: &'p PyAny,
kept: &'p PyDict,
written_item: &'p PyAny,
) -> PyResult<(&'p PyAny, &'p PyAny)> {
    let one = kept.get_item(intern!(py, OBSERVED_MEMO)).is_none()
        && !kept.get_item(intern!(py, "undated")).map_or(Ok(false), |u| u.is_true())?;
    if one {
        let updated = kept.get_item(intern!(py, "updated_at")).ok_or_else(|| failed("no time"))?;
        let read = kept.get_item(intern!(py, "read_at")).ok_or_else(|| failed("no read_at"))?;
        if read.is_none() || read.rich_compare(updated, CompareOp::Ge)?.is_true()? {
            let moment = match isoformat(py, zones, updated) {
                Some(text) => PyString::new(py, &text).as_ref(),
                None => updated.call_method0(intern!(py, "isoformat"))?,
            };
            return Ok((moment, intern!(py, ONE_TIME)));
        }
    }
    let found: &PyTuple = written_item.call1((snap, py.None()))?.downcast()?;
    Ok((found.get_item(0)?.call_method0(intern!(py, "isoformat"))?, found.get_item(1)?))
}


/// ``value.isoformat()`` of an aware ``datetime`` whose offset is whole minutes; None for any other.
fn isoformat<'p>(py: Python<'p>, zones: &mut Zones<'p>, value: &'p PyAny) -> Option<String> {
    let time: &PyDateTime = value.downcast().ok()?;
    let offset = zones.offset(py, time).ok()?;
    let micro = time.get_microsecond();
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.get_year(),
        time.get_month(),
        time.get_day(),
        time.get_hour(),
        time.get_minute(),
        time.get_second()
    );
    if micro != 0 {
        out.push_str(&format!(".{micro:06}"));
    }
    let minutes = offset.abs() / 60;
    out.push_str(&format!("{}{:02}:{:02}", if offset < 0 { '-' } else { '+' }, minutes / 60, minutes % 60));
    Some(out)
}
