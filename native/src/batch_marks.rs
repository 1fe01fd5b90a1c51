//! The PROFILE item's ``attrs`` of a new customer (core.ingest_fresh's ``_owned_json`` and
//! core.grow_mark's ``add_only_mark``), for the common case: keys of printable ASCII without
//! quotes or backslashes, orders without a summary whose amounts have their currency's minor
//! units. Any other case returns None and batch.rs calls the Python function back.

use std::collections::BTreeSet;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

/// Whether ``text`` is written by ``json.dumps`` as it is between quotes: printable ASCII
/// (``str.isprintable`` of ASCII: space to ``~``) without quotes or backslashes.
pub(crate) fn plain(text: &str) -> bool {
    text.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// ``json.dumps({"owned": keys})``, or None when a key is not ``plain``.
pub(crate) fn owned_json(keys: &[&str]) -> Option<String> {
    if !keys.iter().all(|key| plain(key)) {
        return None;
    }
    if keys.is_empty() {
        return Some("{\"owned\": []}".to_owned());
    }
    let mut out = String::with_capacity(16 + keys.iter().map(|k| k.len() + 4).sum::<usize>());
    out.push_str("{\"owned\": [\"");
    out.push_str(&keys.join("\", \""));
    out.push_str("\"]}");
    Some(out)
}

/// The exponent of a ``Decimal`` as ``str`` writes it (``as_tuple().exponent``), or None for one
/// that has none (``NaN``, ``Infinity``).
fn exponent_of(text: &str) -> Option<i64> {
    let digits = text.trim_start_matches('-');
    if digits.is_empty() || !digits.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let (mantissa, power) = match digits.split_once(['E', 'e']) {
        Some((mantissa, power)) => (mantissa, power.parse::<i64>().ok()?),
        None => (digits, 0),
    };
    let places = mantissa.split_once('.').map_or(0, |(_, fraction)| fraction.len());
    Some(power - i64::try_from(places).ok()?)
}

/// What ``add_only_mark`` would write, as far as the common case goes.
pub(crate) enum Mark {
    /// ``add_only_mark`` is None: an amount coarser than its currency's minor units.
    Unmarked,
    /// The mark's JSON (``json.dumps`` of the fingerprint and the sorted types carrying orders).
    Marked(String),
    /// Not the common case: ask ``add_only_mark``.
    Ask,
}

/// core.grow_mark's ``add_only_mark(rules, records)`` for records without an order summary and
/// amounts of up to 4 minor units (``minor_units``: the currencies whose minor units are not 2);
/// ``fingerprint`` is ``rules_fingerprint(rules)``.
pub(crate) fn add_only_mark(
    py: Python<'_>,
    records: &[(&PyDict, &str, &str, &str)],
    minor_units: &PyDict,
    fingerprint: &str,
) -> PyResult<Mark> {
    let mut carrying: BTreeSet<String> = BTreeSet::new();
    for (kept, source, object_type, source_id) in records {
        match kept.get_item("order_summary") {
            Some(summary) if summary.is_none() => {}
            _ => return Ok(Mark::Ask),
        }
        let orders = match kept.get_item("orders") {
            Some(orders) => orders.downcast::<PyTuple>()?,
            None => return Ok(Mark::Ask),
        };
        let (mut carries, mut pays) = (false, false);
        for order in orders.iter() {
            let fields: &PyDict = order.getattr(intern!(py, "__dict__"))?.downcast()?;
            let (total, currency, id, refs) = match (
                fields.get_item("total"),
                fields.get_item("currency"),
                fields.get_item("id"),
                fields.get_item("payment_refs"),
            ) {
                (Some(total), Some(currency), Some(id), Some(refs)) => (total, currency, id, refs),
                _ => return Ok(Mark::Ask),
            };
            let places = match minor_units.get_item(currency) {
                Some(places) => places.extract::<i64>()?,
                None => 2,
            };
            match exponent_of(total.str()?.to_str()?) {
                Some(exponent) if exponent <= -places => {}
                _ => return Ok(Mark::Unmarked), // coarse, or no exponent (not an int)
            }
            carries |= id.downcast::<PyString>()?.to_str()? != *source_id;
            pays |= refs.len()? > 0;
        }
        if carries {
            carrying.insert(format!("{source}:{object_type}"));
        }
        if pays {
            carrying.insert(format!("refs:{source}:{object_type}"));
        }
    }
    if !plain(fingerprint) || !carrying.iter().all(|entry| plain(entry)) {
        return Ok(Mark::Ask);
    }
    let mut out = String::with_capacity(24);
    out.push_str("[\"");
    out.push_str(fingerprint);
    for entry in &carrying {
        out.push_str("\",\"");
        out.push_str(entry);
    }
    out.push_str("\"]");
    Ok(Mark::Marked(out))
}

/// ``owned[:-1] + ', "add_only": ' + json.dumps(mark) + '}'`` for a ``plain`` mark's JSON (its
/// quotes escaped, nothing else to escape).
pub(crate) fn with_mark(owned: &str, mark: &str) -> String {
    let mut out = String::with_capacity(owned.len() + mark.len() + 24);
    out.push_str(&owned[..owned.len() - 1]);
    out.push_str(", \"add_only\": \"");
    out.push_str(&mark.replace('"', "\\\""));
    out.push_str("\"}");
    out
}
