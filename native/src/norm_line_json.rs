//! A JSON line read into Python objects as connectors.jsonl's ``_decode`` reads it
//! (``json.JSONDecoder(parse_float=Decimal, parse_constant=str)``'s C scanner), for the lines it
//! can take byte for byte, and ``NotTaken`` for every other: the caller then runs the Python path
//! on the line, which gives what it gives (a draft, or the line quarantined with its reason).
//!
//! Why not serde_json: without its ``arbitrary_precision`` and ``preserve_order`` features (not
//! in Debian's build of the crate) it gives a fraction as an ``f64`` and an object's keys sorted,
//! where the Python path keeps the number's text (``Decimal("19.90")``) and the keys in the
//! line's order. So this is a small strict reader of the grammar that Python's scanner accepts,
//! which declines, rather than guesses, everything unusual:
//! - whitespace around the object (``line.strip()`` in Python strips Unicode's too), a line that is
//!   not one object, and any syntax error (Python's error message is Python's to write);
//! - a key given twice (Python keeps the last value at the first key's place);
//! - a lone surrogate escape (``"\ud800"``: Python keeps it as a lone code point), a control
//!   character in a string, bytes that are not UTF-8;
//! - ``NaN``, ``Infinity`` and ``-Infinity`` (Python's ``parse_constant``), an integer outside 64
//!   bits, nesting deeper than ``MAX_DEPTH``.
//!
//! What it builds is what the scanner builds: exact ``dict``, ``list`` and ``str``, ``True``,
//! ``False``, ``None``, ``int``, and ``decimal.Decimal(text)`` for a number with a fraction or an
//! exponent (the same text handed to the same class); an object's keys memoised for the line, as
//! the scanner's ``memo`` does (two objects of one line share their ``"id"`` key's ``str``).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

/// Deeper than this is declined (Python reads about a thousand levels; a record is flat).
const MAX_DEPTH: usize = 64;

/// The line is not this reader's: the Python path reads it.
pub(crate) struct NotTaken;

type Read<T> = Result<T, NotTaken>;

impl From<PyErr> for NotTaken {
    fn from(_: PyErr) -> Self {
        NotTaken
    }
}

struct Reader<'a, 'p> {
    py: Python<'p>,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
    decimal: &'p PyAny,
    /// The keys read so far in this line (the scanner's ``memo``).
    keys: Vec<(String, &'p PyString)>,
    text: String,
}

/// The JSON object that is the whole of ``bytes`` (nothing before or after it), as a ``dict``.
pub(crate) fn read_object<'p>(py: Python<'p>, bytes: &[u8], decimal: &'p PyAny) -> Read<&'p PyDict> {
    if bytes.first() != Some(&b'{') {
        return Err(NotTaken);
    }
    let mut reader = Reader { py, bytes, at: 0, depth: 0, decimal, keys: Vec::new(), text: String::new() };
    let object = reader.object()?;
    if reader.at != bytes.len() {
        return Err(NotTaken);
    }
    Ok(object)
}

impl<'a, 'p> Reader<'a, 'p> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// JSON's whitespace (Python's scanner skips the same four).
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Read<()> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(NotTaken)
        }
    }

    fn value(&mut self) -> Read<&'p PyAny> {
        let py = self.py;
        match self.peek().ok_or(NotTaken)? {
            b'{' => Ok(self.object()?.as_ref()),
            b'[' => Ok(self.array()?.as_ref()),
            b'"' => {
                self.string()?;
                Ok(PyString::new(py, &self.text).as_ref())
            }
            b't' => self.literal(b"true", true.into_py(py).into_ref(py)),
            b'f' => self.literal(b"false", false.into_py(py).into_ref(py)),
            b'n' => self.literal(b"null", py.None().into_ref(py)),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(NotTaken),
        }
    }

    fn literal(&mut self, word: &[u8], value: &'p PyAny) -> Read<&'p PyAny> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(NotTaken)
        }
    }

    fn nested(&mut self) -> Read<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(NotTaken);
        }
        self.at += 1;
        self.space();
        Ok(())
    }

    fn object(&mut self) -> Read<&'p PyDict> {
        self.nested()?;
        let dict = PyDict::new(self.py);
        if self.peek() == Some(b'}') {
            self.at += 1;
            self.depth -= 1;
            return Ok(dict);
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(NotTaken);
            }
            let key = self.key()?;
            self.space();
            self.expect(b':')?;
            self.space();
            let value = self.value()?;
            if dict.contains(key)? {
                return Err(NotTaken); // a key given twice
            }
            dict.set_item(key, value)?;
            self.space();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.space();
                }
                Some(b'}') => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(dict);
                }
                _ => return Err(NotTaken),
            }
        }
    }

    fn array(&mut self) -> Read<&'p PyList> {
        self.nested()?;
        let list = PyList::empty(self.py);
        if self.peek() == Some(b']') {
            self.at += 1;
            self.depth -= 1;
            return Ok(list);
        }
        loop {
            list.append(self.value()?)?;
            self.space();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.space();
                }
                Some(b']') => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(list);
                }
                _ => return Err(NotTaken),
            }
        }
    }

    /// An object's key, the same ``str`` for the same text within the line.
    fn key(&mut self) -> Read<&'p PyString> {
        self.string()?;
        if let Some((_, found)) = self.keys.iter().find(|(known, _)| *known == self.text) {
            return Ok(found);
        }
        let made = PyString::new(self.py, &self.text);
        self.keys.push((self.text.clone(), made));
        Ok(made)
    }

    /// The string at ``self.at`` (its opening quote), unescaped, in ``self.text``.
    fn string(&mut self) -> Read<()> {
        self.at += 1;
        self.text.clear();
        let mut from = self.at;
        loop {
            let byte = *self.bytes.get(self.at).ok_or(NotTaken)?;
            match byte {
                b'"' => {
                    self.push_utf8(from, self.at)?;
                    self.at += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.push_utf8(from, self.at)?;
                    self.escape()?;
                    from = self.at;
                }
                0..=0x1f => return Err(NotTaken), // (Python's strict scanner refuses it too)
                _ => self.at += 1,
            }
        }
    }

    fn push_utf8(&mut self, from: usize, to: usize) -> Read<()> {
        let part = std::str::from_utf8(&self.bytes[from..to]).map_err(|_| NotTaken)?;
        self.text.push_str(part);
        Ok(())
    }

    /// The escape at ``self.at`` (its backslash), pushed to ``self.text``.
    fn escape(&mut self) -> Read<()> {
        let kind = *self.bytes.get(self.at + 1).ok_or(NotTaken)?;
        self.at += 2;
        let plain = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        // a pair, or declined (a lone surrogate)
                        if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                            return Err(NotTaken);
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(NotTaken);
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(NotTaken),
                    _ => unit,
                };
                char::from_u32(code).ok_or(NotTaken)?
            }
            _ => return Err(NotTaken),
        };
        self.text.push(plain);
        Ok(())
    }

    fn hex4(&mut self) -> Read<u32> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or(NotTaken)?;
        let mut unit = 0u32;
        for digit in digits {
            unit = unit * 16 + char::from(*digit).to_digit(16).ok_or(NotTaken)?;
        }
        self.at += 4;
        Ok(unit)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// A number as the scanner's ``_match_number`` reads it: ``-?(0|[1-9][0-9]*)``, then a
    /// fraction only with a digit after the point and an exponent only with a digit in it (else
    /// the number ends before them, and what follows is the container's to refuse).
    fn number(&mut self) -> Read<&'p PyAny> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(NotTaken), // (``-Infinity`` too: declined)
        }
        let mut fraction = false;
        if self.peek() == Some(b'.') && matches!(self.bytes.get(self.at + 1), Some(b'0'..=b'9')) {
            self.at += 1;
            self.digits();
            fraction = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            let back = self.at;
            self.at += 1;
            if let Some(b'-' | b'+') = self.peek() {
                self.at += 1;
            }
            if self.digits() > 0 {
                fraction = true;
            } else {
                self.at = back;
            }
        }
        // (the number's bytes are ASCII: checked above)
        let text = std::str::from_utf8(&self.bytes[start..self.at]).map_err(|_| NotTaken)?;
        if fraction {
            return Ok(self.decimal.call1((text,))?);
        }
        let whole: i64 = text.parse().map_err(|_| NotTaken)?;
        Ok(whole.into_py(self.py).into_ref(self.py))
    }
}
