//! A new customer's computed traits (lifetime value, order count, first and last order, average
//! order value, segment, primary currency) as core.computed_traits' ``compute_traits`` gives them
//! and pydantic writes them, for the common case: inline orders that name no payment, amounts whose
//! ``Decimal`` sums and averages are exact in 128-bit integers (a coefficient under 10^18, at most
//! a million paid orders, no exponent below -6). Anything else returns None and profile.rs calls the
//! Python path's JSON back (an order summary, a payment reference, an amount out of those bounds).
//!
//! ``Decimal`` arithmetic under the default context (28 digits, ``ROUND_HALF_EVEN``): a sum of
//! amounts under 10^27 is exact, its exponent the smallest of theirs (and 0, the sum starting at
//! ``Decimal(0)``, which also makes a zero sum positive); an average ``(total / n).quantize(10^e)``
//! is the total's coefficient divided by ``n`` and rounded half to even at the total's exponent
//! ``e``, the sign the total's (``-0.00`` for a small negative total): the 28-digit quotient
//! cannot round onto a half, since a quotient with a denominator ``n`` under 10^6 is at least
//! ``1/(2n)`` away from every half it is not on, and 28 digits resolve far finer than that.

use std::collections::BTreeMap;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::profile::{push_json, Stamp, Zones};

/// Below this a coefficient is exact through the sums and divisions here.
const COEFFICIENT_MAX: i128 = 1_000_000_000_000_000_000;
/// The sums themselves stay under 28 digits.
const SUM_MAX: i128 = 1_000_000_000_000_000_000_000_000_000;

/// A finite ``Decimal``: its signed coefficient and exponent (``-0`` is not kept apart: the sums
/// here start at ``Decimal(0)``, which makes every zero sum positive).
#[derive(Clone, Copy)]
struct Dec {
    value: i128,
    exponent: i32,
}

/// ``str(d)`` of a finite ``Decimal`` read back; None for anything out of the common bounds.
fn parse(text: &str) -> Option<Dec> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, power) = match rest.split_once(['E', 'e']) {
        Some((mantissa, power)) => (mantissa, power.parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None; // NaN, Infinity
    }
    let mut value: i128 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        value = value * 10 + i128::from(digit - b'0');
        if value >= COEFFICIENT_MAX {
            return None;
        }
    }
    let exponent = power - i32::try_from(fraction.len()).ok()?;
    if !(-6..=18).contains(&exponent) {
        return None;
    }
    Some(Dec { value: if negative { -value } else { value }, exponent })
}

fn scaled(value: i128, by: i32) -> Option<i128> {
    let factor = 10i128.checked_pow(u32::try_from(by).ok()?)?;
    let out = value.checked_mul(factor)?;
    (out.abs() < SUM_MAX).then_some(out)
}

fn add(a: Dec, b: Dec) -> Option<Dec> {
    let exponent = a.exponent.min(b.exponent);
    let sum = scaled(a.value, a.exponent - exponent)?.checked_add(scaled(b.value, b.exponent - exponent)?)?;
    (sum.abs() < SUM_MAX).then_some(Dec { value: sum, exponent })
}

/// Whether ``a >= b``.
fn at_least(a: Dec, b: Dec) -> Option<bool> {
    let exponent = a.exponent.min(b.exponent);
    Some(scaled(a.value, a.exponent - exponent)? >= scaled(b.value, b.exponent - exponent)?)
}

/// ``str(d)`` of a ``Decimal`` of exponent at most 0 and adjusted exponent at least -6, with a sign.
fn format(negative: bool, coefficient: i128, exponent: i32) -> Option<String> {
    let digits = coefficient.to_string();
    let places = usize::try_from(-exponent).ok()?;
    let adjusted = i64::from(exponent) + i64::try_from(digits.len()).ok()? - 1;
    if adjusted < -6 {
        return None; // str() writes it in scientific notation
    }
    let mut out = String::with_capacity(digits.len() + places + 3);
    if negative {
        out.push('-');
    }
    if places == 0 {
        out.push_str(&digits);
    } else if digits.len() > places {
        out.push_str(&digits[..digits.len() - places]);
        out.push('.');
        out.push_str(&digits[digits.len() - places..]);
    } else {
        out.push_str("0.");
        out.push_str(&"0".repeat(places - digits.len()));
        out.push_str(&digits);
    }
    Some(out)
}

/// ``(total / count).quantize(quantum(total), ROUND_HALF_EVEN)`` as ``str`` writes it.
fn average(total: Dec, count: i128) -> Option<String> {
    if total.exponent > 0 || count <= 0 || count >= 1_000_000 || total.value.abs() >= COEFFICIENT_MAX {
        return None;
    }
    let magnitude = total.value.abs();
    let (quotient, remainder) = (magnitude / count, magnitude % count);
    let rounded = match (2 * remainder).cmp(&count) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    };
    format(total.value < 0, rounded, total.exponent)
}

struct Paid {
    total: Dec,
    count: i128,
    latest: i64,
}

/// The computed traits' JSON of the ``records`` (``(source, fields)`` in the group's order), or
/// None when this is not the common case (module docs); ``thresholds`` are the rules' ``vip``
/// thresholds by currency (``*``: any other) as ``str`` of each ``Decimal``.
pub(crate) fn computed_json<'p>(
    py: Python<'p>,
    zones: &mut Zones<'p>,
    records: &[(&'p str, &'p PyDict)],
    thresholds: &PyDict,
    no_orders: &str,
) -> PyResult<Option<String>> {
    // each order once by (source, id), the first record's copy; sorted, as the sums are added
    let mut orders: BTreeMap<(&str, &str), &PyDict> = BTreeMap::new();
    for (source, kept) in records {
        match kept.get_item("order_summary") {
            Some(summary) if summary.is_none() => {}
            _ => return Ok(None),
        }
        let listed = match kept.get_item("orders") {
            Some(listed) => listed.downcast::<PyTuple>()?,
            None => return Ok(None),
        };
        for order in listed.iter() {
            let fields: &PyDict = order.getattr(intern!(py, "__dict__"))?.downcast()?;
            let id = match fields.get_item("id") {
                Some(id) => id.downcast::<PyString>()?.to_str()?,
                None => return Ok(None),
            };
            orders.entry((*source, id)).or_insert(fields);
        }
    }
    let mut by_currency: BTreeMap<&str, Paid> = BTreeMap::new();
    let mut first: Option<Stamp> = None;
    let mut last: Option<Stamp> = None;
    let mut paid_count: i128 = 0;
    for fields in orders.values() {
        let refs = fields.get_item("payment_refs");
        if !matches!(refs, Some(refs) if refs.len()? == 0) {
            return Ok(None); // a purchase two tools may both carry: core.purchases decides
        }
        let status = fields.get_item("status").map(|s| s.downcast::<PyString>()).transpose()?;
        if status.map(|s| s.to_str()).transpose()? != Some("paid") {
            continue;
        }
        let (total, currency, created) = match (
            fields.get_item("total"),
            fields.get_item("currency"),
            fields.get_item("created_at"),
        ) {
            (Some(total), Some(currency), Some(created)) => (total, currency, created),
            _ => return Ok(None),
        };
        let amount = match parse(total.str()?.to_str()?) {
            Some(amount) => amount,
            None => return Ok(None),
        };
        let at = zones.stamp(py, created)?;
        let currency = currency.downcast::<PyString>()?.to_str()?;
        let start = Dec { value: 0, exponent: 0 };
        let entry = by_currency.entry(currency).or_insert(Paid { total: start, count: 0, latest: at.instant });
        entry.total = match add(entry.total, amount) {
            Some(sum) => sum,
            None => return Ok(None),
        };
        entry.count += 1;
        entry.latest = entry.latest.max(at.instant);
        paid_count += 1;
        if first.as_ref().map_or(true, |known| at.instant < known.instant) {
            first = Some(Stamp { instant: at.instant, json: at.json.clone() });
        }
        if last.as_ref().map_or(true, |known| at.instant > known.instant) {
            last = Some(at);
        }
    }
    let (first, last) = match (first, last) {
        (Some(first), Some(last)) => (first, last),
        _ => return Ok(Some(no_orders.to_owned())), // no paid order
    };
    let mut ltv = String::from("{\"lifetime_value\":{");
    let mut aov = String::from(",\"average_order_value\":{");
    let mut vip = false;
    let mut primary: Option<(&str, i128, i64)> = None;
    for (index, (currency, paid)) in by_currency.iter().enumerate() {
        if index > 0 {
            ltv.push(',');
            aov.push(',');
        }
        let (total, mean) = match (format(paid.total.value < 0, paid.total.value.abs(), paid.total.exponent), average(paid.total, paid.count)) {
            (Some(total), Some(mean)) => (total, mean),
            _ => return Ok(None),
        };
        for (out, text) in [(&mut ltv, &total), (&mut aov, &mean)] {
            push_json(out, currency)?;
            out.push(':');
            push_json(out, text)?;
        }
        let threshold = match thresholds.get_item(*currency) {
            Some(found) => Some(found),
            None => thresholds.get_item("*"),
        };
        if let Some(threshold) = threshold {
            let threshold = match parse(threshold.downcast::<PyString>()?.to_str()?) {
                Some(threshold) => threshold,
                None => return Ok(None),
            };
            match at_least(paid.total, threshold) {
                Some(reached) => vip |= reached,
                None => return Ok(None),
            }
        }
        // the most paid orders, then the latest; max keeps the first code of equals
        if primary.map_or(true, |(_, count, latest)| (paid.count, paid.latest) > (count, latest)) {
            primary = Some((currency, paid.count, paid.latest));
        }
    }
    let segment = if vip {
        "vip"
    } else if paid_count >= 2 {
        "repeat"
    } else {
        "customer"
    };
    let mut out = ltv;
    out.push_str("},\"order_count\":");
    out.push_str(&paid_count.to_string());
    out.push_str(",\"first_order_at\":");
    out.push_str(&first.json);
    out.push_str(",\"last_order_at\":");
    out.push_str(&last.json);
    out.push_str(&aov);
    out.push_str("},\"segment\":\"");
    out.push_str(segment);
    out.push('"');
    if by_currency.len() > 1 {
        if let Some((currency, _, _)) = primary {
            out.push_str(",\"primary_currency\":");
            push_json(&mut out, currency)?;
        }
    }
    out.push('}');
    Ok(Some(out))
}
