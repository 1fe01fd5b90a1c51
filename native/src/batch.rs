//! One compiled call a group, and one a batch: every row core.ingest_fresh's ``_rows`` builds for a
//! new customer (its oracle: tests/unit/test_native30g_batch_parity.py), the group's records read
//! once into Rust structs and shared by the identifier loop, the SOURCE rows and events, the IDENT
//! and HOLDER rows, the profile and its ``attrs``, where rows.rs, lib.rs and profile.rs each read
//! them again through the C API (five calls a group).
//!
//! As everywhere in this crate, a group is the Python path's rows byte for byte or an error, and
//! core.ingest_native then runs the Python path for that group. Python's own logic is called back
//! in the order the Python path calls it (the blocklist's patterns, ``past_limit``, the mailbox
//! markers, ``written_item`` for a record of several versions, a record's hash and JSON when it
//! came without them), so the records keep the same memos in the same order; so is Python's
//! ``new_profile`` for a profile profile.rs declines, and ``_owned_json`` and ``add_only_mark``
//! outside batch_marks.rs's common case.

use std::collections::{HashMap, HashSet};

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::batch_marks::{add_only_mark, owned_json, with_mark, Mark};
use crate::batch_items::{arrived_event, written};
use crate::profile::{profile_of, text_of, ProfileInput, ProfileRules, Zones};

const BLOCKED: &str = "blocklisted value";
const ARRIVED: &str = "a new record";

fn chars(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

fn failed(what: &str) -> PyErr {
    PyValueError::new_err(format!("not the compiled rows' common case: {what}"))
}

/// A memo kept in a model's ``__dict__`` (its ``key``), else the attribute (which keeps it).
fn memo_or_attr<'p>(py: Python<'p>, obj: &'p PyAny, kept: &'p PyDict) -> PyResult<&'p PyAny> {
    match kept.get_item(intern!(py, "key")) {
        Some(key) => Ok(key),
        None => obj.getattr(intern!(py, "key")),
    }
}

struct Ident<'p> {
    obj: &'p PyAny,
    key_obj: &'p PyAny,
    key: &'p str,
    kind: &'p str,
    value: &'p str,
}

struct Rec<'p> {
    obj: &'p PyAny,
    kept: &'p PyDict,
    key_obj: &'p PyAny,
    key: &'p str,
    idents: Vec<Ident<'p>>,
}

/// What every group of one batch shares: the settings, the event's texts, Python's callbacks.
#[pyclass]
pub struct FreshRows {
    blocked: Py<PyDict>,
    is_blocked: PyObject,
    limits: Py<PyDict>,
    past_limit: PyObject,
    marker_keys: PyObject,
    hit: PyObject,
    record_hash: PyObject,
    record_json: PyObject,
    written_item: PyObject,
    new_profile: PyObject,
    owned_json: PyObject,
    add_only_mark: PyObject,
    fingerprint: String,
    minor_units: Py<PyDict>,
    at_json: String,
    actor_json: String,
    sort_prefix: String,
    id_time: String,
    event_base: usize,
    scratch: bool,
    limit: usize,
    recent: Py<PyDict>,
    default_recent: bool,
    utc: PyObject,
    fixed: PyObject,
    no_orders: String,
    computed: PyObject,
    thresholds: Py<PyDict>,
    sizes: (usize, usize, usize, usize, usize),
    declined: PyObject,
}

#[pymethods]
impl FreshRows {
    /// The batch's shared values (core.ingest_native's ``fresh_rows`` names each); ``sizes`` is
    /// ``(ITEM_MAX_BYTES, _ITEM_OVERHEAD, _PK_MAX_BYTES, _SK_MAX_BYTES, PACK_THRESHOLD_BYTES)``.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        blocked: Py<PyDict>,
        is_blocked: PyObject,
        limits: Py<PyDict>,
        past_limit: PyObject,
        marker_keys: PyObject,
        hit: PyObject,
        record_hash: PyObject,
        record_json: PyObject,
        written_item: PyObject,
        new_profile: PyObject,
        owned_json: PyObject,
        add_only_mark: PyObject,
        fingerprint: String,
        minor_units: Py<PyDict>,
        at_json: String,
        actor_json: String,
        sort_prefix: String,
        id_time: String,
        event_base: usize,
        scratch: bool,
        limit: usize,
        recent: Py<PyDict>,
        default_recent: bool,
        utc: PyObject,
        fixed: PyObject,
        no_orders: String,
        computed: PyObject,
        thresholds: Py<PyDict>,
        sizes: (usize, usize, usize, usize, usize),
        declined: PyObject,
    ) -> Self {
        FreshRows {
            blocked, is_blocked, limits, past_limit, marker_keys, hit, record_hash, record_json,
            written_item, new_profile, owned_json, add_only_mark, fingerprint, minor_units, at_json,
            actor_json, sort_prefix, id_time, event_base, scratch, limit, recent, default_recent, utc,
            fixed, no_orders, computed, thresholds, sizes, declined,
        }
    }

    /// ``_rows`` of one group (sorted in place by key): ``(survivor, items, hits)``, or None when
    /// the general planner must decide; raises where the Python path must write it.
    fn group(&self, py: Python<'_>, group: &PyList) -> PyResult<PyObject> {
        Ok(self.rows_of(py, group)?.unwrap_or_else(|| py.None()))
    }

    /// ``group`` of each of a batch's ``groups``, in order: its rows, None, or ``declined`` (the
    /// sentinel given) for a group the Python path must write.
    fn groups(&self, py: Python<'_>, groups: &PyList) -> PyResult<PyObject> {
        let out = PyList::empty(py);
        for group in groups.iter() {
            let found = match group.downcast::<PyList>() {
                Ok(group) => match self.rows_of(py, group) {
                    Ok(found) => found.unwrap_or_else(|| py.None()),
                    Err(_) => self.declined.clone_ref(py),
                },
                Err(_) => self.declined.clone_ref(py),
            };
            out.append(found)?;
        }
        Ok(out.into())
    }
}

impl FreshRows {
    fn rows_of<'p>(&self, py: Python<'p>, group: &'p PyList) -> PyResult<Option<PyObject>> {
        // the records, sorted by key as ``group.sort(key=_key)`` sorts them (stable; distinct keys)
        let mut recs: Vec<Rec<'p>> = Vec::with_capacity(group.len());
        for record in group.iter() {
            let kept: &PyDict = record.getattr(intern!(py, "__dict__"))?.downcast()?;
            let key_obj = memo_or_attr(py, record, kept)?;
            let key = key_obj.downcast::<PyString>()?.to_str()?;
            recs.push(Rec { obj: record, kept, key_obj, key, idents: Vec::new() });
        }
        if recs.len() > 1 && recs.windows(2).any(|pair| pair[0].key > pair[1].key) {
            let objects: Vec<&PyAny> = group.iter().collect();
            let mut order: Vec<usize> = (0..recs.len()).collect();
            order.sort_by(|a, b| recs[*a].key.cmp(recs[*b].key));
            for (at, from) in order.iter().enumerate() {
                group.set_item(at, objects[*from])?;
            }
            let mut taken: Vec<Option<Rec<'p>>> = recs.into_iter().map(Some).collect();
            recs = order.iter().map(|from| taken[*from].take().expect("each once")).collect();
        }
        for rec in &mut recs {
            let listed = rec.kept.get_item("identifiers").ok_or_else(|| failed("no identifiers"))?;
            for ident in listed.downcast::<PyTuple>()?.iter() {
                let fields: &PyDict = ident.getattr(intern!(py, "__dict__"))?.downcast()?;
                let key_obj = memo_or_attr(py, ident, fields)?;
                rec.idents.push(Ident {
                    obj: ident,
                    key_obj,
                    key: key_obj.downcast::<PyString>()?.to_str()?,
                    kind: text_of(fields, "kind")?,
                    value: text_of(fields, "value")?,
                });
            }
        }

        // the identifier loop (``_identifier_loop``)
        let blocked = self.blocked.as_ref(py);
        let limits = self.limits.as_ref(py);
        let hits = PyList::empty(py);
        let mut usable: HashSet<&str> = HashSet::new();
        let mut desired: Vec<(&str, &PyAny)> = Vec::new();
        let mut holder_at: HashMap<&str, usize> = HashMap::new();
        let mut holders: Vec<(&str, usize)> = Vec::new();
        let mut longest = 0usize;
        for rec in &recs {
            longest = longest.max(chars(rec.key));
            for ident in &rec.idents {
                if ident.kind == "source" {
                    if usable.insert(ident.key) {
                        desired.push((ident.key, ident.key_obj));
                    }
                    continue;
                }
                let refused = match blocked.get_item(ident.key_obj) {
                    Some(known) => known,
                    None => {
                        let answer = self.is_blocked.as_ref(py).call1((ident.obj,))?;
                        blocked.set_item(ident.key_obj, answer)?;
                        answer
                    }
                };
                if refused.is_true()? {
                    hits.append(self.hit.as_ref(py).call1((rec.key_obj, ident.key_obj, BLOCKED))?)?;
                    continue;
                }
                if usable.insert(ident.key) {
                    desired.push((ident.key, ident.key_obj));
                }
                if limits.get_item(ident.kind).is_some() {
                    match holder_at.get(ident.key) {
                        Some(at) => holders[*at].1 += 1,
                        None => {
                            holder_at.insert(ident.key, holders.len());
                            holders.push((ident.key, 1));
                        }
                    }
                }
            }
        }
        for (key, count) in &holders {
            let prefix = key.split_once('#').map_or(*key, |(kind, _)| kind);
            let limit = limits.get_item(prefix).ok_or_else(|| failed("a kind without a limit"))?;
            let over = count.to_object(py).as_ref(py).rich_compare(limit, CompareOp::Gt)?.is_true()?;
            if over && self.past_limit.as_ref(py).call1((group, *key, limits))?.is_true()? {
                return Ok(None); // the guardrails would refuse the key: components are the planner's
            }
        }
        desired.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut seen: HashSet<String> = HashSet::new();
        let mut markers: Vec<&PyAny> = Vec::new();
        let mut longest_ident = 0usize;
        for (key, _) in &desired {
            longest_ident = longest_ident.max(chars(key));
            if key.starts_with("email#") {
                for marker in self.marker_keys.as_ref(py).call1((*key,))?.iter()? {
                    let marker = marker?;
                    let text = marker.downcast::<PyString>()?.to_str()?;
                    if seen.insert(text.to_owned()) {
                        longest_ident = longest_ident.max(chars(text));
                        markers.push(marker);
                    }
                }
            }
        }
        let (item_max, overhead, pk_max, sk_max, pack_threshold) = self.sizes;
        if 4 * (7 + longest) > sk_max || 4 * (6 + longest_ident) > pk_max {
            return Ok(None); // a key that may be longer than DynamoDB takes
        }
        let survivor = crate::customer_id_of(recs[0].key);
        if 2 * recs.len() + desired.len() + markers.len() + 1 > self.limit {
            return Ok(None); // more than one transaction
        }

        // the SOURCE rows and events (``_source_event_rows``)
        let pk: &PyAny = PyString::new(py, &format!("CUSTOMER#{survivor}"));
        let cid_json = format!("\"{survivor}\"");
        let fixed = self.event_base + cid_json.len();
        let sources = PyList::empty(py);
        let events = PyList::empty(py);
        let mut hashes: Vec<&PyAny> = Vec::with_capacity(recs.len());
        let mut total = 0usize;
        let mut text = String::with_capacity(256);
        for rec in &recs {
            let record = rec.obj;
            let hash_obj = match rec.kept.get_item(intern!(py, "_record_hash")) {
                Some(memo) if !memo.is_none() => memo,
                _ => self.record_hash.as_ref(py).call1((record,))?,
            };
            let snapshot = match rec.kept.get_item(intern!(py, "_record_json")) {
                Some(memo) if !memo.is_none() => memo,
                _ => self.record_json.as_ref(py).call1((record,))?,
            };
            let hash = hash_obj.downcast::<PyString>()?.to_str()?;
            let snapshot_len = chars(snapshot.downcast::<PyString>()?.to_str()?);
            hashes.push(hash_obj);
            let sort_key = PyString::new(py, &format!("SOURCE#{}", rec.key));
            sources.append(PyTuple::new(py, [pk, sort_key, hash_obj, snapshot]))?;
            let reason = if crate::quotes_arrived(py, rec.key)? { "" } else { ARRIVED };
            let key_json = serde_json::to_string(rec.key).map_err(|e| failed(&e.to_string()))?;
            total += fixed + reason.len() + chars(&key_json);
            if !self.scratch {
                let texts = [survivor.as_str(), &cid_json, &self.at_json, &self.actor_json, &self.id_time];
                let (eid, event) = arrived_event(&mut text, texts, rec.key, hash, reason, &key_json);
                let sort_key = PyString::new(py, &format!("{}{eid}", self.sort_prefix));
                events.append(PyTuple::new(py, [pk, sort_key, PyString::new(py, &event)]))?;
            }
            total += chars(rec.key) + chars(hash) + snapshot_len;
        }

        // the IDENT and HOLDER rows (``_ident_holder_rows``)
        let utc = self.utc.as_ref(py);
        let mut zones = Zones::new(utc, self.fixed.as_ref(py));
        let idents = PyList::empty(py);
        let none = py.None();
        let owner: PyObject = PyString::new(py, &survivor).into();
        let written_item: &'p PyAny = self.written_item.clone_ref(py).into_ref(py);
        for (key, _) in &desired {
            let ident_key: PyObject = PyString::new(py, &format!("IDENT#{key}")).into();
            let own = match key.strip_prefix("source#") {
                Some(record_key) => recs.iter().rposition(|rec| rec.key == record_key),
                None => None,
            };
            match own {
                None => {
                    let row = [ident_key, none.clone_ref(py), owner.clone_ref(py), none.clone_ref(py), none.clone_ref(py)];
                    idents.append(PyTuple::new(py, row))?;
                    total += chars(key);
                }
                Some(at) => {
                    let snap = recs[at].obj;
                    let (moment, run) = written(py, &mut zones, snap, recs[at].kept, written_item)?;
                    let hash = hashes[at];
                    let (hash_text, moment_text) = (hash.downcast::<PyString>()?.to_str()?, moment.downcast::<PyString>()?.to_str()?);
                    total += chars(key) + chars(hash_text) + chars(moment_text) + chars(run.downcast::<PyString>()?.to_str()?);
                    idents.append(PyTuple::new(py, [ident_key, hash.into(), owner.clone_ref(py), moment.into(), run.into()]))?;
                }
            }
        }
        let held = PyList::empty(py);
        let holder: PyObject = PyString::new(py, &format!("HOLDER#{survivor}")).into();
        for mailbox in &markers {
            let text = mailbox.downcast::<PyString>()?.to_str()?;
            if !self.scratch {
                let row = [PyString::new(py, &format!("IDENT#{text}")).into(), holder.clone_ref(py), owner.clone_ref(py)];
                held.append(PyTuple::new(py, row))?;
            }
            total += chars(text);
        }

        // the profile (``new_profile``), Python's where profile.rs declines
        let inputs: Vec<ProfileInput<'p>> = recs
            .iter()
            .map(|rec| ProfileInput {
                key: rec.key,
                kept: rec.kept,
                idents: rec.idents.iter().map(|i| (i.key, i.kind, i.value)).collect(),
            })
            .collect();
        let rules = ProfileRules {
            recent: self.recent.as_ref(py),
            default_recent: self.default_recent,
            utc,
            fixed: self.fixed.as_ref(py),
            no_orders: &self.no_orders,
            computed_json: self.computed.as_ref(py),
            thresholds: self.thresholds.as_ref(py),
        };
        let (document, item_hash): (String, String) = match profile_of(py, &survivor, group, &inputs, &rules) {
            Ok(built) => built,
            Err(_) => self.new_profile.as_ref(py).call1((survivor.as_str(), group))?.extract()?,
        };

        // the profile item's attrs: the owned keys and the add-only mark
        let keys: Vec<&str> = desired.iter().map(|(key, _)| *key).collect();
        let mut owned = match owned_json(&keys) {
            Some(owned) => owned,
            None => {
                let listed = PyList::new(py, desired.iter().map(|(_, key)| *key));
                self.owned_json.as_ref(py).call1((listed,))?.extract()?
            }
        };
        let marked: Vec<(&PyDict, &str, &str, &str)> = recs
            .iter()
            .map(|rec| {
                Ok((rec.kept, text_of(rec.kept, "source")?, text_of(rec.kept, "object_type")?, text_of(rec.kept, "source_id")?))
            })
            .collect::<PyResult<_>>()?;
        match add_only_mark(py, &marked, self.minor_units.as_ref(py), &self.fingerprint)? {
            Mark::Unmarked => {}
            Mark::Marked(mark) => owned = with_mark(&owned, &mark),
            Mark::Ask => {
                let mark = self.add_only_mark.as_ref(py).call1((group,))?;
                if !mark.is_none() {
                    owned = self.with_python_mark(py, &owned, mark)?;
                }
            }
        }

        // one length check against the item and transaction limits
        let rows = 2 * recs.len() + idents.len() + markers.len() + 1;
        let (document_chars, owned_chars) = (chars(&document), chars(&owned));
        total += document_chars + owned_chars + rows * (2 * chars(&survivor) + 16);
        if 4 * total + overhead * rows > item_max || document_chars + owned_chars > pack_threshold {
            return Ok(None); // sized exactly, or packed, by the planner
        }
        let profile_row = PyTuple::new(py, [pk.into_py(py), item_hash.into_py(py), document.into_py(py), owned.into_py(py)]);
        let items = PyTuple::new(
            py,
            [idents.to_object(py), PyList::new(py, [profile_row]).into(), sources.into(), events.into(), held.into()],
        );
        Ok(Some((survivor, items, hits).into_py(py)))
    }

    fn with_python_mark(&self, py: Python<'_>, owned: &str, mark: &PyAny) -> PyResult<String> {
        let json = py.import("json")?.call_method1("dumps", (mark,))?;
        Ok(format!("{}, \"add_only\": {}}}", &owned[..owned.len() - 1], json.downcast::<PyString>()?.to_str()?))
    }
}
