//! A new customer's profile item, byte for byte what core.ingest_profile's ``new_profile`` writes
//! (its oracle: tests/unit/test_native29b_profile_parity.py): the profile's JSON as pydantic writes
//! ``build_profile(customer_id, records, rules, 1)`` and the BLAKE2b digest of its body.
//!
//! The common case only, as everywhere in this crate: a value this code cannot write as the Python
//! path does raises, and core.ingest_native then runs the Python path for that group. It declines
//! a record read before its stamp (``read_at`` earlier than ``updated_at``, or than a consent
//! decision: ``ordered_by_read``'s rounding is Python's), a time without a zone or with an offset
//! of seconds, and a trait several records give whose survivorship rule is not ``most_recent``.
//! The computed traits of a group with orders are profile_computed.rs's for the common case (inline
//! orders naming no payment, amounts exact in 128-bit integers), else the Python path's own
//! (``Decimal`` sums, core.computed_traits), called back as their JSON; a group without orders
//! writes the constant JSON of ``ComputedTraits()`` it is given.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::AsPyPointer;
use pyo3::types::{
    PyDateAccess, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyList, PyString, PyTimeAccess,
    PyTzInfoAccess, PyTuple,
};

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's ``days_from_civil``).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn declined(what: &str) -> PyErr {
    PyValueError::new_err(format!("not the compiled profile's common case: {what}"))
}

/// A time as the profile compares it (its UTC instant in microseconds) and as pydantic writes it
/// in JSON (quotes included): ``YYYY-MM-DDTHH:MM:SS``, ``.ffffff`` when it has microseconds,
/// then ``Z`` for a zero offset or ``+HH:MM``.
pub(crate) struct Stamp {
    pub(crate) instant: i64,
    pub(crate) json: String,
}

/// The offsets of the zones one call has seen, by the zone object: fixed offsets
/// (``datetime.timezone``) only; any other zone is asked for each time.
pub(crate) struct Zones<'p> {
    utc: &'p PyAny,
    fixed: &'p PyAny,
    known: Vec<(usize, i32)>,
}

impl<'p> Zones<'p> {
    pub(crate) fn new(utc: &'p PyAny, fixed: &'p PyAny) -> Self {
        Zones { utc, fixed, known: Vec::new() }
    }

    /// The time's offset from UTC in seconds (whole minutes only: any other raises).
    pub(crate) fn offset(&mut self, py: Python<'p>, time: &'p PyDateTime) -> PyResult<i32> {
        let zone = match time.get_tzinfo() {
            Some(zone) => zone,
            None => return Err(declined("a time without a zone")),
        };
        if zone.is(self.utc) {
            return Ok(0);
        }
        let address = zone.as_ptr() as usize;
        if let Some((_, seconds)) = self.known.iter().find(|(at, _)| *at == address) {
            return Ok(*seconds);
        }
        let delta = time.call_method0(intern!(py, "utcoffset"))?;
        let delta: &PyDelta = delta.downcast()?;
        if delta.get_microseconds() != 0 {
            return Err(declined("an offset of microseconds"));
        }
        let seconds = delta.get_days() * 86_400 + delta.get_seconds();
        if seconds % 60 != 0 {
            return Err(declined("an offset of seconds"));
        }
        if zone.get_type().is(self.fixed) {
            self.known.push((address, seconds));
        }
        Ok(seconds)
    }

    pub(crate) fn stamp(&mut self, py: Python<'p>, value: &'p PyAny) -> PyResult<Stamp> {
        let time: &PyDateTime = value.downcast()?;
        let offset = self.offset(py, time)?;
        let (year, month, day) = (time.get_year(), time.get_month(), time.get_day());
        let (hour, minute, second) = (time.get_hour(), time.get_minute(), time.get_second());
        let micro = time.get_microsecond();
        let local = days_from_civil(i64::from(year), i64::from(month), i64::from(day)) * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        let instant = (local - i64::from(offset)) * 1_000_000 + i64::from(micro);
        let mut json = String::with_capacity(34);
        write!(json, "\"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        if micro != 0 {
            write!(json, ".{micro:06}").map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        if offset == 0 {
            json.push('Z');
        } else {
            let sign = if offset < 0 { '-' } else { '+' };
            let minutes = offset.abs() / 60;
            write!(json, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        json.push('"');
        Ok(Stamp { instant, json })
    }
}

pub(crate) fn push_json(out: &mut String, text: &str) -> PyResult<()> {
    let written = serde_json::to_string(text).map_err(|e| PyValueError::new_err(e.to_string()))?;
    out.push_str(&written);
    Ok(())
}

pub(crate) fn text_of<'p>(kept: &'p PyDict, name: &str) -> PyResult<&'p str> {
    match kept.get_item(name) {
        Some(value) => value.downcast::<PyString>()?.to_str(),
        None => Err(declined("a field missing")),
    }
}

/// One record as the profile reads it.
struct Read<'p> {
    key: &'p str,
    kept: &'p PyDict,
    updated: Stamp,
}

/// A record as the profile reads it: its key, its ``__dict__``, and its identifiers' keys, kinds
/// and values (read once by the caller: batch.rs reads them for the whole group's rows).
pub(crate) struct ProfileInput<'p> {
    pub(crate) key: &'p str,
    pub(crate) kept: &'p PyDict,
    pub(crate) idents: Vec<(&'p str, &'p str, &'p str)>,
}

/// What the profile reads of the merge rules and of Python (``new_profile``'s arguments but the
/// customer id and the group).
#[derive(Clone, Copy)]
pub(crate) struct ProfileRules<'p> {
    pub(crate) recent: &'p PyDict,
    pub(crate) default_recent: bool,
    pub(crate) utc: &'p PyAny,
    pub(crate) fixed: &'p PyAny,
    pub(crate) no_orders: &'p str,
    pub(crate) computed_json: &'p PyAny,
    pub(crate) thresholds: &'p PyDict,
}

/// core.ingest_profile's ``new_profile``: ``(document, digest)``, the PROFILE item's JSON (the
/// customer id and version 1 around the body) and the BLAKE2b-128 digest of the body. ``group``
/// is the new customer's records sorted by key, each key once; ``recent`` says per trait whether
/// its rule is ``most_recent`` (``default_recent`` for a trait it does not name); ``utc`` is
/// ``datetime.UTC`` and ``fixed`` is ``datetime.timezone``; ``no_orders`` is the JSON of
/// ``ComputedTraits()``, ``computed_json(records)`` the JSON of ``compute_traits`` for a group with
/// orders out of the compiled case, and ``thresholds`` the rules' ``vip`` thresholds by currency
/// (``*``: every other) as the ``str`` of each.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn new_profile(
    py: Python<'_>,
    customer_id: &str,
    group: &PyList,
    recent: &PyDict,
    default_recent: bool,
    utc: &PyAny,
    fixed: &PyAny,
    no_orders: &str,
    computed_json: &PyAny,
    thresholds: &PyDict,
) -> PyResult<(String, String)> {
    let mut inputs = Vec::with_capacity(group.len());
    for record in group.iter() {
        let kept: &PyDict = record.getattr(intern!(py, "__dict__"))?.downcast()?;
        let key = record.getattr(intern!(py, "key"))?.downcast::<PyString>()?.to_str()?;
        let listed = kept.get_item("identifiers").ok_or_else(|| declined("no identifiers"))?;
        let mut idents = Vec::new();
        for ident in listed.downcast::<PyTuple>()?.iter() {
            let fields: &PyDict = ident.getattr(intern!(py, "__dict__"))?.downcast()?;
            let ident_key = ident.getattr(intern!(py, "key"))?.downcast::<PyString>()?.to_str()?;
            idents.push((ident_key, text_of(fields, "kind")?, text_of(fields, "value")?));
        }
        inputs.push(ProfileInput { key, kept, idents });
    }
    let rules = ProfileRules { recent, default_recent, utc, fixed, no_orders, computed_json, thresholds };
    profile_of(py, customer_id, group, &inputs, &rules)
}

/// ``new_profile`` of records already read (``inputs``, the ``group``'s, in its order).
pub(crate) fn profile_of<'p>(
    py: Python<'p>,
    customer_id: &str,
    group: &'p PyList,
    inputs: &[ProfileInput<'p>],
    rules: &ProfileRules<'p>,
) -> PyResult<(String, String)> {
    let ProfileRules { recent, default_recent, utc, fixed, no_orders, computed_json, thresholds } = *rules;
    let mut zones = Zones { utc, fixed, known: Vec::new() };
    let mut records: Vec<Read<'_>> = Vec::with_capacity(inputs.len());
    let mut identifiers: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut has_orders = false;
    for input in inputs {
        let (kept, key) = (input.kept, input.key);
        let updated = zones.stamp(py, kept.get_item("updated_at").ok_or_else(|| declined("no time"))?)?;
        if let Some(read_at) = kept.get_item("read_at") {
            if !read_at.is_none() && zones.stamp(py, read_at)?.instant < updated.instant {
                return Err(declined("a record read before its stamp"));
            }
        }
        for (ident_key, kind, value) in &input.idents {
            identifiers.entry(ident_key).or_insert((kind, value));
        }
        let orders = kept.get_item("orders").ok_or_else(|| declined("no orders field"))?;
        let summary = kept.get_item("order_summary").ok_or_else(|| declined("no summary field"))?;
        has_orders |= orders.len()? > 0 || !summary.is_none();
        records.push(Read { key, kept, updated });
    }

    let mut body = String::with_capacity(512);
    body.push_str("{\"identifiers\":[");
    for (index, (kind, value)) in identifiers.values().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str("{\"kind\":");
        push_json(&mut body, kind)?;
        body.push_str(",\"value\":");
        push_json(&mut body, value)?;
        body.push('}');
    }

    // traits: per name (sorted as Python sorts code points), the candidates in the group's order
    body.push_str("],\"traits\":{");
    let mut by_trait: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
    for (at, read) in records.iter().enumerate() {
        let traits: &PyDict = read.kept.get_item("traits").ok_or_else(|| declined("no traits"))?.downcast()?;
        for (name, value) in traits.iter() {
            let value = value.downcast::<PyString>()?.to_str()?;
            if !value.is_empty() {
                by_trait.entry(name.downcast::<PyString>()?.to_str()?).or_default().push((at, value));
            }
        }
    }
    for (index, (name, candidates)) in by_trait.iter().enumerate() {
        let (at, value) = if candidates.len() == 1 {
            candidates[0]
        } else {
            let most_recent = match recent.get_item(*name) {
                Some(answer) => answer.is_true()?,
                None => default_recent,
            };
            if !most_recent {
                return Err(declined("a trait whose rule is not most_recent"));
            }
            // max by (ordered_at, key): keys are distinct, so no two candidates tie
            *candidates
                .iter()
                .max_by(|a, b| {
                    let (ra, rb) = (&records[a.0], &records[b.0]);
                    (ra.updated.instant, ra.key).cmp(&(rb.updated.instant, rb.key))
                })
                .ok_or_else(|| declined("no candidate"))?
        };
        if index > 0 {
            body.push(',');
        }
        let read = &records[at];
        push_json(&mut body, name)?;
        body.push_str(":{\"value\":");
        push_json(&mut body, value)?;
        body.push_str(",\"source\":");
        push_json(&mut body, read.key)?;
        body.push_str(",\"updated_at\":");
        body.push_str(&read.updated.json);
        body.push('}');
    }

    body.push_str("},\"computed\":");
    if has_orders {
        let sources = records
            .iter()
            .map(|read| Ok((text_of(read.kept, "source")?, read.kept)))
            .collect::<PyResult<Vec<_>>>()?;
        match crate::profile_computed::computed_json(py, &mut zones, &sources, thresholds, no_orders)? {
            Some(computed) => body.push_str(&computed),
            None => {
                let computed = computed_json.call1((group,))?;
                body.push_str(computed.downcast::<PyString>()?.to_str()?);
            }
        }
    } else {
        body.push_str(no_orders);
    }

    // consent: per channel the latest decision, an opt-out above a grant at the same time
    body.push_str(",\"consent\":{");
    let mut best: BTreeMap<&str, ((i64, bool, &str), bool, Stamp)> = BTreeMap::new();
    for read in &records {
        let consent: &PyDict = read.kept.get_item("consent").ok_or_else(|| declined("no consent"))?.downcast()?;
        if consent.is_empty() {
            continue;
        }
        let read_at = match read.kept.get_item("read_at") {
            Some(value) if !value.is_none() => Some(zones.stamp(py, value)?.instant),
            _ => None,
        };
        for (channel, state) in consent.iter() {
            let fields: &PyDict = state.getattr(intern!(py, "__dict__"))?.downcast()?;
            let granted = fields.get_item("granted").ok_or_else(|| declined("no granted"))?.is_true()?;
            let changed = zones.stamp(py, fields.get_item("changed_at").ok_or_else(|| declined("no time"))?)?;
            if matches!(read_at, Some(read) if changed.instant > read) {
                return Err(declined("a decision stamped after its record was read"));
            }
            let rank = (changed.instant, !granted, read.key);
            let channel = channel.downcast::<PyString>()?.to_str()?;
            let better = match best.get(channel) {
                Some((current, _, _)) => rank > *current,
                None => true,
            };
            if better {
                best.insert(channel, (rank, granted, changed));
            }
        }
    }
    for (index, (channel, ((_, _, key), granted, changed))) in best.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        push_json(&mut body, channel)?;
        body.push_str(if *granted { ":{\"granted\":true" } else { ":{\"granted\":false" });
        body.push_str(",\"changed_at\":");
        body.push_str(&changed.json);
        body.push_str(",\"source\":");
        push_json(&mut body, key)?;
        body.push('}');
    }

    body.push_str("},\"sources\":[");
    for (index, read) in records.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str("{\"source\":");
        push_json(&mut body, text_of(read.kept, "source")?)?;
        body.push_str(",\"object_type\":");
        push_json(&mut body, text_of(read.kept, "object_type")?)?;
        body.push_str(",\"id\":");
        push_json(&mut body, text_of(read.kept, "source_id")?)?;
        body.push_str(",\"updated_at\":");
        body.push_str(&read.updated.json);
        body.push('}');
    }
    body.push_str("]}");

    let digest = blake2b_simd::Params::new().hash_length(16).hash(body.as_bytes()).to_hex().to_string();
    let mut document = String::with_capacity(body.len() + customer_id.len() + 32);
    document.push_str("{\"customer_id\":");
    push_json(&mut document, customer_id)?;
    document.push(',');
    document.push_str(&body[1..body.len() - 1]);
    document.push_str(",\"version\":1}");
    Ok((document, digest))
}
