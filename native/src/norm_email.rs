//! The normalising worker's email addresses: core.normalise._email's ``normalise_email`` for an
//! ASCII address its one regex decides (nearly every one), and the Python function itself for
//! everything else (any text that is not ASCII, which Python folds with its own Unicode tables;
//! an address the regex refuses, whose reason Python gives; a domain with ``--``, which may be an
//! A-label for idna to check; anything that is not text). So the compiled path writes only what
//! Python's fast path writes, and never different bytes. The oracle:
//! tests/unit/test_native29n_email_parity.py.

use pyo3::once_cell::GILOnceCell;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// core.normalise._limits' ``_MAX_INPUT_LEN``: a longer text goes to Python, which refuses it.
const MAX_INPUT_LEN: usize = 1024;

static PYTHON_NORMALISE: GILOnceCell<PyObject> = GILOnceCell::new();

fn python_normalise(py: Python<'_>) -> PyResult<&PyObject> {
    if let Some(found) = PYTHON_NORMALISE.get(py) {
        return Ok(found);
    }
    let function: PyObject = py.import("core.normalise._email")?.getattr("normalise_email")?.into();
    let _ = PYTHON_NORMALISE.set(py, function);
    Ok(PYTHON_NORMALISE.get(py).expect("set above"))
}

/// Python's ``str.isspace`` of an ASCII character: what ``str.strip()`` removes (it includes the
/// four information separators, 0x1C to 0x1F, which Rust's ``is_ascii_whitespace`` does not).
pub(crate) fn python_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ')
}

/// RFC 5322 ``atext`` in lower case (``_ATEXT``).
fn atext(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"!#$%&'*+/=?^_`{|}~-".contains(&byte)
}

/// ``_LABEL``: 1 to 63 of ``[a-z0-9-]``, neither first nor last a hyphen.
fn label(part: &[u8]) -> bool {
    !part.is_empty()
        && part.len() <= 63
        && part[0] != b'-'
        && part[part.len() - 1] != b'-'
        && part.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// ``_EMAIL_RE.fullmatch(address) is not None and "--" not in domain`` for a lower-cased ASCII
/// address: a dot-atom local part of 1 to 64 characters, one ``@``, two labels or more, the last
/// with a letter.
pub(crate) fn fast_match(address: &[u8]) -> bool {
    let at = match address.iter().position(|b| *b == b'@') {
        Some(at) => at,
        None => return false,
    };
    let (local, domain) = (&address[..at], &address[at + 1..]);
    if local.is_empty() || local.len() > 64 {
        return false;
    }
    if !local.split(|b| *b == b'.').all(|part| !part.is_empty() && part.iter().all(|b| atext(*b))) {
        return false;
    }
    if domain.windows(2).any(|pair| pair == b"--") {
        return false;
    }
    let labels: Vec<&[u8]> = domain.split(|b| *b == b'.').collect();
    labels.len() >= 2
        && labels.iter().all(|part| label(part))
        && labels[labels.len() - 1].iter().any(u8::is_ascii_lowercase)
}

/// ``core.normalise.normalise_email(value)``: compiled for an ASCII text the fast path decides,
/// the Python function (and what it raises) for anything else.
#[pyfunction]
pub fn normalise_email(py: Python<'_>, value: &PyAny) -> PyResult<PyObject> {
    // (a text holding a lone surrogate is not UTF-8: the Python function says why)
    if let Some(text) = value.downcast::<PyString>().ok().and_then(|text| text.to_str().ok()) {
        if text.is_ascii() && text.len() <= MAX_INPUT_LEN {
            let bytes = text.as_bytes();
            let start = bytes.iter().position(|b| !python_space(*b)).unwrap_or(bytes.len());
            let end = bytes.iter().rposition(|b| !python_space(*b)).map_or(start, |i| i + 1);
            let address = bytes[start..end].to_ascii_lowercase();
            if address.len() <= 254 && fast_match(&address) {
                // SAFETY of the unwrap: ASCII in, ASCII out.
                let address = std::str::from_utf8(&address).expect("ASCII");
                return Ok(PyString::new(py, address).into());
            }
        }
    }
    python_normalise(py)?.call1(py, (value,))
}
