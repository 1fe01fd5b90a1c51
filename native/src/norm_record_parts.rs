//! Parts of native/src/norm_record.rs's one call a record: the record's traits
//! (core.normalise._names' ``_traits``) and its consent (core.normalise._consent's ``_consent``),
//! and the collector of dropped values, made only when a part the Python functions read drops.

use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyTuple};
use pyo3::AsPyPointer;

use crate::norm_record::{exact_text, global, plain_ascii, Decline, Known, Step};

/// The record's ``_Collector``, made on first use.
pub(crate) fn collector<'p>(py: Python<'p>, k: &'p Known, made: &mut Option<&'p PyAny>) -> Step<&'p PyAny> {
    if let Some(found) = made {
        return Ok(found);
    }
    let found = global(k.record.as_ref(py), intern!(py, "_Collector"))?.call0()?;
    *made = Some(found);
    Ok(found)
}

fn exact_dict(value: &PyAny) -> Option<&PyDict> {
    // SAFETY: a live object; PyDict_CheckExact reads its type.
    if unsafe { ffi::PyDict_CheckExact(value.as_ptr()) } != 0 {
        value.downcast::<PyDict>().ok()
    } else {
        None
    }
}

/// ``_traits(raw, collector)`` of traits that drop nothing: each pair read by ``_text_trait``
/// (two texts: cached) or ``_trait``, as the Python loop reads it. Declined: traits that are not
/// an exact dict, a pair that would be dropped (a name that cannot be one, a duplicate after
/// snake_case, a value refused), traits over their budget (``_within_budget`` drops).
pub(crate) fn traits<'p>(py: Python<'p>, k: &Known, raw: &'p PyAny) -> Step<&'p PyDict> {
    let given = exact_dict(raw).ok_or(Decline)?;
    let names = k.names.as_ref(py);
    let text_trait = global(names, intern!(py, "_text_trait"))?;
    let any_trait = global(names, intern!(py, "_trait"))?;
    let blank = k.blank.as_ref(py);
    let result = PyDict::new(py);
    let mut chars = 0usize;
    for (name, value) in given.iter() {
        let read = if exact_text(name).is_some() && exact_text(value).is_some() {
            text_trait.call1((name, value))?
        } else {
            any_trait.call1((name, value))?
        };
        if read.is(blank) {
            continue;
        }
        let read: &PyTuple = read.downcast().map_err(|_| Decline)?;
        let (key, text, reason) = (read.get_item(0)?, read.get_item(2)?, read.get_item(3)?);
        if !key.is_true()? || result.contains(key)? || reason.is_true()? {
            return Err(Decline);
        }
        if text.is_true()? {
            chars += key.len()? + text.len()?;
            result.set_item(key, text)?;
        }
    }
    // (``_within_budget``'s first test: a character is at most 4 bytes; past it, it may drop)
    if 4 * chars > k.max_traits_bytes {
        return Err(Decline);
    }
    Ok(result)
}

/// ``_consent(raw, updated_at, latest, skew, collector)``, and whether a decision may hold a time
/// of its own (read by the Python function: then ``read_at`` looks at each). Compiled: decisions
/// of true or false under plain ASCII channel names, as many as are allowed; ``_consent`` itself
/// for anything else (it drops and dates as it does).
#[allow(clippy::too_many_arguments)]
pub(crate) fn consent<'p>(
    py: Python<'p>,
    k: &'p Known,
    raw: &'p PyAny,
    updated_at: &'p PyAny,
    latest: &'p PyAny,
    skew: &'p PyAny,
    made: &mut Option<&'p PyAny>,
) -> Step<(&'p PyDict, bool)> {
    if let Some(given) = exact_dict(raw) {
        if let Some(result) = plain_decisions(py, k, given, updated_at)? {
            return Ok((result, false));
        }
    }
    let found = collector(py, k, made)?;
    let result = global(k.record.as_ref(py), intern!(py, "_consent"))?
        .call1((raw, updated_at, latest, skew, found))?
        .downcast::<PyDict>()
        .map_err(|_| Decline)?;
    Ok((result, true))
}

/// The decisions of ``given`` when every one is ``true`` or ``false`` under a plain ASCII channel
/// name of at most ``MAX_CHANNEL_CHARS``, no more than ``MAX_CONSENT_CHANNELS`` of them: each a
/// ``ConsentState`` dated by the record, under its name lower-cased by ``str.lower``.
fn plain_decisions<'p>(py: Python<'p>, k: &Known, given: &'p PyDict, updated_at: &'p PyAny) -> Step<Option<&'p PyDict>> {
    let result = PyDict::new(py);
    for (channel, value) in given.iter() {
        let plain = match plain_ascii(channel) {
            Some((_, text)) => text.len() <= k.max_channel_chars,
            None => false,
        };
        if !plain || !value.is_instance_of::<PyBool>()? || result.len() >= k.max_consent_channels {
            return Ok(None);
        }
        let lowered = channel.call_method0(intern!(py, "lower"))?;
        let state = PyDict::new(py);
        state.set_item(intern!(py, "granted"), value)?;
        state.set_item(intern!(py, "changed_at"), updated_at)?;
        state.set_item(intern!(py, "dated_by_record"), false)?;
        // the run's two fields (core.schema.ConsentState.assemble defaults them): unset
        state.set_item(intern!(py, "contrary_at"), py.None())?;
        state.set_item(intern!(py, "run_at"), pyo3::types::PyTuple::empty(py))?;
        let state = crate::worker_handover::reassemble(py, k.consent_state.as_ref(py), state, py.None().as_ref(py))?;
        result.set_item(lowered, state)?;
    }
    Ok(Some(result))
}
