//! The normalising worker's one compiled call a record: core.normalise._record's
//! ``normalise_record`` for the common record (the shapes the scaling bench's three sources and
//! the jsonl connector produce), without the Python frames of ``_normalise_record``,
//! ``_identifiers``, ``_traits``, ``_consent`` and ``_orders``.
//!
//! What stays Python's is called back through the very globals the Python function reads (so a
//! choice made by ``core.normalise.use_*``, or a test's patch, is seen the same): the time
//! (``normalise_timestamp``, cached), the clock (``utc_now``), each text trait (``_text_trait``,
//! cached: the Unicode folding of names and countries), the email address (the chosen
//! ``normalise_email``), the phone (``_phone_reader``: phonenumbers), each order (the chosen
//! ``_order``) and the cached identifiers and models (``_email_identifier``, ``assemble_model``).
//!
//! A record it cannot write byte for byte as the Python function does goes whole to that
//! function: anything that is not the common shape (a problem, a child, an id that is not plain
//! ASCII text, several emails or phones, a value a normaliser refuses, a trait or consent entry
//! that would be dropped, a time ahead of the clock, a duplicate order id, more orders than
//! inline) and any error met on the way. The oracle: tests/unit/test_native30w_record_parity.py.

use pyo3::ffi;
use pyo3::intern;
use pyo3::once_cell::GILOnceCell;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::AsPyPointer;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::norm_email::python_space;
use crate::norm_record_parts::{consent, traits};

pub(crate) struct Known {
    /// core.normalise._record's globals, read at each call as the Python function reads them.
    pub record: Py<PyDict>,
    /// core.normalise._names' and _money's globals (``_text_trait``, ``_trait``; ``_order``).
    pub names: Py<PyDict>,
    pub money: Py<PyDict>,
    /// The Python function itself, for every record this call does not take.
    pub python: PyObject,
    pub draft: Py<PyType>,
    pub source_record: Py<PyType>,
    pub identifier: Py<PyType>,
    pub consent_state: Py<PyType>,
    pub child_types: PyObject,
    pub blank: PyObject,
    pub utc: PyObject,
    pub within_second: PyObject,
    pub max_key_bytes: usize,
    pub max_traits_bytes: usize,
    pub max_channel_chars: usize,
    pub max_consent_channels: usize,
    pub max_inline_orders: usize,
}

static KNOWN: GILOnceCell<Known> = GILOnceCell::new();

pub(crate) fn known(py: Python<'_>) -> PyResult<&Known> {
    if let Some(found) = KNOWN.get(py) {
        return Ok(found);
    }
    let record = py.import("core.normalise._record")?;
    let limits = py.import("core.normalise._limits")?;
    let schema = py.import("core.schema")?;
    let names = py.import("core.normalise._names")?;
    let money = py.import("core.normalise._money")?;
    let limit = |name: &str| -> PyResult<usize> { limits.getattr(name)?.extract() };
    let found = Known {
        record: record.dict().into(),
        names: names.dict().into(),
        money: money.dict().into(),
        python: record.getattr("normalise_record")?.into(),
        draft: schema.getattr("RecordDraft")?.downcast::<PyType>()?.into(),
        source_record: schema.getattr("SourceRecord")?.downcast::<PyType>()?.into(),
        identifier: schema.getattr("Identifier")?.downcast::<PyType>()?.into(),
        consent_state: schema.getattr("ConsentState")?.downcast::<PyType>()?.into(),
        child_types: schema.getattr("CHILD_OBJECT_TYPES")?.into(),
        blank: names.getattr("_BLANK")?.into(),
        utc: py.import("datetime")?.getattr("UTC")?.into(),
        within_second: record.getattr("_WITHIN_THE_SECOND")?.into(),
        max_key_bytes: limit("MAX_KEY_BYTES")?,
        max_traits_bytes: limit("MAX_TRAITS_BYTES")?,
        max_channel_chars: limit("MAX_CHANNEL_CHARS")?,
        max_consent_channels: limit("MAX_CONSENT_CHANNELS")?,
        max_inline_orders: limit("MAX_INLINE_ORDERS")?,
    };
    // (one email and one phone fit in any room this call assumes)
    if limit("MAX_IDENTIFIERS")? < 2 {
        return Err(pyo3::exceptions::PyValueError::new_err("MAX_IDENTIFIERS below 2"));
    }
    let _ = KNOWN.set(py, found);
    Ok(KNOWN.get(py).expect("set above"))
}

/// Not this call's record: the Python function takes it whole.
pub(crate) struct Decline;

pub(crate) type Step<T> = Result<T, Decline>;

impl From<PyErr> for Decline {
    fn from(_: PyErr) -> Self {
        Decline
    }
}

/// ``module_globals[name]``.
pub(crate) fn global<'p>(globals: &'p PyDict, name: &PyString) -> Step<&'p PyAny> {
    globals.get_item(name).ok_or(Decline)
}

/// ``value`` when it is an exact ``str``.
pub(crate) fn exact_text(value: &PyAny) -> Option<&PyString> {
    // SAFETY: a live object; PyUnicode_CheckExact reads its type.
    if unsafe { ffi::PyUnicode_CheckExact(value.as_ptr()) } != 0 {
        value.downcast::<PyString>().ok()
    } else {
        None
    }
}

/// ``value`` as an ASCII ``str`` that is not empty and has nothing ``str.strip()`` removes: what
/// ``_text_id`` gives back as it is (``strip`` returns the same object) and ``_id_problem``
/// accepts at once.
pub(crate) fn plain_ascii(value: &PyAny) -> Option<(&PyString, &str)> {
    let text = exact_text(value)?;
    let utf8 = text.to_str().ok()?;
    let bytes = utf8.as_bytes();
    if bytes.is_empty() || !utf8.is_ascii() || python_space(bytes[0]) || python_space(bytes[bytes.len() - 1]) {
        return None;
    }
    Some((text, utf8))
}

/// ``draft.__dict__[name]``.
fn field<'p>(values: &'p PyDict, name: &PyString) -> Step<&'p PyAny> {
    values.get_item(name).ok_or(Decline)
}

/// The one value ``_identifiers(values, kind, normalise, collector, room)`` reads of a list of
/// one text or none, which is all this call takes: ``None`` for no value (an empty list, ``[None]``,
/// a blank text: left out, not dropped), the raw text for one (both of ``_identifiers``' paths
/// normalise such a text as it is). Declined: a longer list, a value that is not text.
fn one_value<'p>(py: Python<'p>, values: &'p PyAny) -> Step<Option<&'p PyAny>> {
    // SAFETY: a live object; PyList_CheckExact reads its type.
    if unsafe { ffi::PyList_CheckExact(values.as_ptr()) } == 0 {
        return Err(Decline);
    }
    let list: &PyList = values.downcast().map_err(|_| Decline)?;
    match list.len() {
        0 => Ok(None),
        1 => {
            let raw = list.get_item(0)?;
            if raw.is_none() {
                return Ok(None);
            }
            let text = exact_text(raw).ok_or(Decline)?;
            let blank = match text.to_str() {
                Ok(utf8) if utf8.is_ascii() => utf8.bytes().all(python_space),
                // (Python's own whitespace outside ASCII; a lone surrogate is not blank)
                _ => raw.call_method0(intern!(py, "strip"))?.len()? == 0,
            };
            Ok(if blank { None } else { Some(raw) })
        }
        _ => Err(Decline),
    }
}

/// ``normalise(raw)``, or None with the value dropped as ``_identifiers`` drops it (its field
/// ``kind``, the reason ``_reason`` gives).
fn identifier<'p>(
    py: Python<'p>,
    k: &'p Known,
    normalise: &'p PyAny,
    raw: &'p PyAny,
    kind: &'p PyString,
    made: &mut Option<&'p PyAny>,
) -> Step<Option<&'p PyAny>> {
    match normalise.call1((raw,)) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.is_instance_of::<pyo3::exceptions::PyException>(py) => {
            let reason = global(k.record.as_ref(py), intern!(py, "_reason"))?.call1((error.value(py),))?;
            let found = crate::norm_record_parts::collector(py, k, made)?;
            found.call_method1(intern!(py, "drop"), (kind, raw, reason))?;
            Ok(None)
        }
        Err(_) => Err(Decline),
    }
}

/// ``a + b`` (``PyNumber_Add``).
pub(crate) fn add<'p>(py: Python<'p>, a: &PyAny, b: &PyAny) -> PyResult<&'p PyAny> {
    // SAFETY: live objects; PyNumber_Add returns a new reference or NULL with an error set.
    unsafe { py.from_owned_ptr_or_err(ffi::PyNumber_Add(a.as_ptr(), b.as_ptr())) }
}

/// The record, or ``Decline``.
fn common(py: Python<'_>, k: &Known, draft: &PyAny, options: &PyAny) -> Step<PyObject> {
    if !draft.get_type().is(k.draft.as_ref(py)) {
        return Err(Decline);
    }
    let record_globals = k.record.as_ref(py);
    let values: &PyDict = draft.getattr(intern!(py, "__dict__"))?.downcast().map_err(|_| Decline)?;
    if !field(values, intern!(py, "problem"))?.is_none() {
        return Err(Decline);
    }
    let (source, _) = plain_ascii(field(values, intern!(py, "source"))?).ok_or(Decline)?;
    let (source_id, source_id_text) = plain_ascii(field(values, intern!(py, "source_id"))?).ok_or(Decline)?;
    let (object_type, object_type_text) = plain_ascii(field(values, intern!(py, "object_type"))?).ok_or(Decline)?;
    let source_text = source.to_str()?;
    let key_text = format!("{source_text}:{object_type_text}:{source_id_text}");
    if key_text.len() * 4 > k.max_key_bytes {
        return Err(Decline); // (the Python function measures it, and may quarantine it)
    }
    // A child (an owner type, or a child's object type) is the Python function's.
    if !field(values, intern!(py, "owner_type"))?.is_none() || k.child_types.as_ref(py).contains(object_type)? {
        return Err(Decline);
    }

    let updated_at = global(record_globals, intern!(py, "normalise_timestamp"))?
        .call1((field(values, intern!(py, "updated_at"))?,))?;
    let fixed = options.getattr(intern!(py, "now"))?;
    let now: &PyAny = if fixed.is_true()? {
        fixed
    } else {
        global(record_globals, intern!(py, "utc_now"))?
            .call0()?
            .call_method1(intern!(py, "astimezone"), (k.utc.as_ref(py),))?
    };
    let skew = options.getattr(intern!(py, "max_future_skew"))?;
    let latest = add(py, now, skew)?;
    let mut collector: Option<&PyAny> = None;
    let mut updated_at = updated_at;
    if updated_at.gt(latest)? {
        // Read as made just before the clock's second, with its note (the first value dropped).
        let whole = PyDict::new(py);
        whole.set_item(intern!(py, "microsecond"), 0)?;
        let stamped = updated_at
            .call_method(intern!(py, "replace"), (), Some(whole))?
            .call_method0(intern!(py, "isoformat"))?;
        let reason = global(record_globals, intern!(py, "_future_reason"))?
            .call1((skew, intern!(py, "the time it was read")))?;
        let found = crate::norm_record_parts::collector(py, k, &mut collector)?;
        found.call_method1(intern!(py, "drop"), (intern!(py, "updated_at"), stamped, reason))?;
        updated_at = global(record_globals, intern!(py, "read_before"))?.call1((now,))?;
    }

    let traits = traits(py, k, field(values, intern!(py, "traits"))?)?;

    let email = match one_value(py, field(values, intern!(py, "emails"))?)? {
        Some(raw) => {
            let normalise = global(record_globals, intern!(py, "normalise_email"))?;
            identifier(py, k, normalise, raw, intern!(py, "email"), &mut collector)?
        }
        None => None,
    };
    let phone = match one_value(py, field(values, intern!(py, "phones"))?)? {
        Some(raw) => {
            let country = traits.get_item(intern!(py, "country")).unwrap_or_else(|| py.None().into_ref(py));
            let region = options.getattr(intern!(py, "default_region"))?;
            let reader = global(record_globals, intern!(py, "_phone_reader"))?.call1((country, region))?;
            identifier(py, k, reader, raw, intern!(py, "phone"), &mut collector)?
        }
        None => None,
    };
    if email.is_none() && phone.is_none() {
        return Err(Decline); // (kept by other identity, or quarantined: the Python function's)
    }

    let raw_consent = field(values, intern!(py, "consent"))?;
    let (consent, dated_by_decisions) = consent(py, k, raw_consent, updated_at, latest, skew, &mut collector)?;
    let floored = options.getattr(intern!(py, "now_floored"))?.is_true()?;
    let ahead: &PyAny = if floored { add(py, now, k.within_second.as_ref(py))? } else { now };
    let mut read_at: &PyAny = py.None().into_ref(py);
    if updated_at.gt(ahead)? {
        read_at = now;
    } else if dated_by_decisions {
        for state in consent.values() {
            if state.getattr(intern!(py, "changed_at"))?.gt(ahead)? {
                read_at = now;
                break;
            }
        }
    }
    let (orders, summary) = orders(py, k, field(values, intern!(py, "orders"))?, &mut collector)?;

    let assemble = global(record_globals, intern!(py, "assemble_model"))?;
    let mut identifiers: Vec<&PyAny> = Vec::with_capacity(3);
    if let Some(address) = email {
        identifiers.push(global(record_globals, intern!(py, "_email_identifier"))?.call1((address,))?);
    }
    if let Some(number) = phone {
        identifiers.push(global(record_globals, intern!(py, "_phone_identifier"))?.call1((number,))?);
    }
    let own = PyDict::new(py);
    own.set_item(intern!(py, "kind"), intern!(py, "source"))?;
    own.set_item(intern!(py, "value"), PyString::new(py, &key_text))?;
    identifiers.push(assemble.call1((k.identifier.as_ref(py), own))?);

    let dropped: &PyAny = match collector {
        Some(found) => found.call_method0(intern!(py, "listed"))?,
        None => PyTuple::empty(py),
    };
    let record = PyDict::new(py);
    record.set_item(intern!(py, "source"), source)?;
    record.set_item(intern!(py, "object_type"), object_type)?;
    record.set_item(intern!(py, "source_id"), source_id)?;
    record.set_item(intern!(py, "updated_at"), updated_at)?;
    record.set_item(intern!(py, "identifiers"), PyTuple::new(py, identifiers))?;
    record.set_item(intern!(py, "traits"), traits)?;
    record.set_item(intern!(py, "consent"), consent)?;
    record.set_item(intern!(py, "orders"), orders)?;
    record.set_item(intern!(py, "dropped"), dropped)?;
    record.set_item(intern!(py, "level"), intern!(py, "person"))?;
    record.set_item(intern!(py, "owner"), py.None())?;
    record.set_item(intern!(py, "order_summary"), summary)?;
    record.set_item(intern!(py, "read_at"), read_at)?;
    record.set_item(intern!(py, "undated"), field(values, intern!(py, "undated"))?)?;
    Ok(assemble.call1((k.source_record.as_ref(py), record))?.into())
}

/// ``_orders(orders, collector)``: each order read by the chosen ``_order`` (a list of orders
/// with distinct ids, no more than inline), or ``_orders`` itself for anything else (a value
/// ``_order`` refuses, a repeated id, more orders than inline, orders that are not a list), which
/// drops and sums up as it does.
fn orders<'p>(py: Python<'p>, k: &'p Known, raw: &'p PyAny, collector: &mut Option<&'p PyAny>) -> Step<(&'p PyAny, &'p PyAny)> {
    let mut python = || -> Step<(&'p PyAny, &'p PyAny)> {
        let found = crate::norm_record_parts::collector(py, k, collector)?;
        let pair: &PyTuple = global(k.record.as_ref(py), intern!(py, "_orders"))?
            .call1((raw, found))?
            .downcast()
            .map_err(|_| Decline)?;
        Ok((pair.get_item(0)?, pair.get_item(1)?))
    };
    // SAFETY: a live object; PyList_CheckExact reads its type.
    if unsafe { ffi::PyList_CheckExact(raw.as_ptr()) } == 0 {
        return python();
    }
    let list: &PyList = raw.downcast().map_err(|_| Decline)?;
    if list.is_empty() {
        return Ok((PyTuple::empty(py), py.None().into_ref(py)));
    }
    if list.len() > k.max_inline_orders {
        return python();
    }
    let read = global(k.money.as_ref(py), intern!(py, "_order"))?;
    let by_id = PyDict::new(py);
    let mut kept_orders: Vec<&PyAny> = Vec::with_capacity(list.len());
    for item in list.iter() {
        let order = match read.call1((item,)) {
            Ok(order) => order,
            Err(_) => return python(),
        };
        let kept: &PyDict = order.getattr(intern!(py, "__dict__"))?.downcast().map_err(|_| Decline)?;
        let id = kept.get_item(intern!(py, "id")).ok_or(Decline)?;
        if by_id.contains(id)? {
            return python();
        }
        by_id.set_item(id, order)?;
        kept_orders.push(order);
    }
    Ok((PyTuple::new(py, kept_orders), py.None().into_ref(py)))
}

/// The records this process's ``normalise_record`` wrote and those it gave the Python function.
static TAKEN: AtomicUsize = AtomicUsize::new(0);
static DECLINED: AtomicUsize = AtomicUsize::new(0);

/// ``core.normalise._record.normalise_record(draft, options)``: compiled for the common record,
/// the Python function for every other one (and for any error met on the way).
#[pyfunction]
pub fn normalise_record(py: Python<'_>, draft: &PyAny, options: &PyAny) -> PyResult<PyObject> {
    let k = known(py)?;
    match common(py, k, draft, options) {
        Ok(record) => {
            TAKEN.fetch_add(1, Ordering::Relaxed);
            Ok(record)
        }
        Err(Decline) => {
            DECLINED.fetch_add(1, Ordering::Relaxed);
            k.python.call1(py, (draft, options))
        }
    }
}

/// ``(taken, declined)``: how many records ``normalise_record`` wrote itself and how many it gave
/// the Python function, in this process so far (for the parity tests and the bench).
#[pyfunction]
pub fn normalise_record_counts() -> (usize, usize) {
    (TAKEN.load(Ordering::Relaxed), DECLINED.load(Ordering::Relaxed))
}
