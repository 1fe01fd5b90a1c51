//! ``resolve --out``'s lines written from the profiles' JSON documents in one compiled pass: the
//! bytes profilesync.resolve_output's ``document_line`` and ``_encode_line`` write (its oracle:
//! tests/unit/test_native31g_line_parity.py), without Python's objects for each value.
//!
//! The Python path parses each document (``json.loads``), builds the line's dicts and encodes them
//! (``json.dumps(line, ensure_ascii=False)``): about 14 µs a record in both writing processes. Here
//! a document is read once into slices of its own text and the line written from them. That gives
//! the same bytes because each value is copied only when decoding and encoding it again is the
//! identity:
//! - a string only in the canonical form of Python's encoder with ``ensure_ascii=False`` (which is
//!   serde_json's, so pydantic's): escapes only for ``"``, ``\`` and the control characters (``\b``,
//!   ``\f``, ``\n``, ``\r``, ``\t``, else ``\u00xx`` in lower case), nothing else escaped;
//! - a number only as an integer of up to 18 digits without a sign's ``-0`` (a float's text may
//!   not survive ``repr``); ``true``, ``false``, ``null``;
//! - an object only without a repeated key (``json.loads`` keeps the last value at the first place).
//! Any other document, or one of another shape than a profile's (a missing key, a value of another
//! type where the line reads into it), is *declined*: the Python function given writes its line
//! (or raises what the Python path raises). A time is written as ``_isoformat`` writes it: a whole
//! second in UTC (``YYYY-MM-DDTHH:MM:SSZ``) with ``+00:00`` for the ``Z`` here, as its fast path
//! does, any other ASCII time by ``_isoformat`` itself (given, and cached there).

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

/// A JSON value as slices of the document's text (strings without their quotes, canonical).
enum Value<'a> {
    Text(&'a str),
    Raw(&'a str), // an integer, true, false or null: written as read
    List(Vec<Value<'a>>),
    Object(Vec<(&'a str, Value<'a>)>),
}

/// Why a document is left to the Python function: it holds something this pass does not copy.
struct Declined;

type Read<T> = Result<T, Declined>;

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn skip_space(&mut self) {
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() && matches!(bytes[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Read<()> {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(Declined)
        }
    }

    fn value(&mut self, depth: usize) -> Read<Value<'a>> {
        if depth > 64 {
            return Err(Declined);
        }
        self.skip_space();
        match self.peek().ok_or(Declined)? {
            b'"' => Ok(Value::Text(self.string()?)),
            b'{' => {
                self.at += 1;
                let mut items: Vec<(&'a str, Value<'a>)> = Vec::new();
                self.skip_space();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(Value::Object(items));
                }
                loop {
                    self.skip_space();
                    if self.peek() != Some(b'"') {
                        return Err(Declined);
                    }
                    let key = self.string()?;
                    if items.iter().any(|(seen, _)| *seen == key) {
                        return Err(Declined); // json.loads keeps the last value at the first place
                    }
                    self.expect(b':')?;
                    items.push((key, self.value(depth + 1)?));
                    self.skip_space();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Value::Object(items));
                        }
                        _ => return Err(Declined),
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_space();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Value::List(items));
                        }
                        _ => return Err(Declined),
                    }
                }
            }
            _ => self.scalar(),
        }
    }

    /// A string's text between its quotes, if canonical (see the module's docstring).
    fn string(&mut self) -> Read<&'a str> {
        let bytes = self.text.as_bytes();
        let start = self.at + 1;
        let mut at = start;
        loop {
            match bytes.get(at).copied().ok_or(Declined)? {
                b'"' => break,
                b'\\' => {
                    match bytes.get(at + 1).copied().ok_or(Declined)? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => at += 2,
                        b'u' => {
                            let hex = bytes.get(at + 2..at + 6).ok_or(Declined)?;
                            let lower = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                            // only a control character without a short form: \u0000 to \u001f
                            if hex[0] != b'0' || hex[1] != b'0' || !(hex[2] == b'0' || hex[2] == b'1') || !lower(hex[3]) {
                                return Err(Declined);
                            }
                            if hex[2] == b'0' && matches!(hex[3], b'8' | b'9' | b'a' | b'c' | b'd') {
                                return Err(Declined); // \b \t \n \f \r have short forms
                            }
                            at += 6;
                        }
                        _ => return Err(Declined),
                    }
                }
                byte if byte < 0x20 => return Err(Declined), // json.loads refuses it
                _ => at += 1,
            }
        }
        self.at = at + 1;
        Ok(&self.text[start..at])
    }

    /// ``true``, ``false``, ``null`` or an integer that reads back as written.
    fn scalar(&mut self) -> Read<Value<'a>> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        for word in ["true", "false", "null"] {
            if bytes[start..].starts_with(word.as_bytes()) {
                self.at += word.len();
                return Ok(Value::Raw(word));
            }
        }
        let mut at = start;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        let digits = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        let count = at - digits;
        if count == 0 || count > 18 || (bytes[digits] == b'0' && (count > 1 || digits > start)) {
            return Err(Declined); // none, too long, a leading zero, or -0
        }
        if matches!(bytes.get(at), Some(b'.' | b'e' | b'E')) {
            return Err(Declined); // a float: its text may not be repr's
        }
        self.at = at;
        Ok(Value::Raw(&self.text[start..at]))
    }
}

fn field<'v, 'a>(value: &'v Value<'a>, name: &str) -> Read<&'v Value<'a>> {
    match value {
        Value::Object(items) => items.iter().find(|(key, _)| *key == name).map(|(_, v)| v).ok_or(Declined),
        _ => Err(Declined),
    }
}

fn text<'a>(value: &Value<'a>) -> Read<&'a str> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(Declined),
    }
}

fn list<'v, 'a>(value: &'v Value<'a>) -> Read<&'v [Value<'a>]> {
    match value {
        Value::List(items) => Ok(items),
        _ => Err(Declined),
    }
}

fn object<'v, 'a>(value: &'v Value<'a>) -> Read<&'v [(&'a str, Value<'a>)]> {
    match value {
        Value::Object(items) => Ok(items),
        _ => Err(Declined),
    }
}

/// ``json.dumps``'s separators: ``", "`` and ``": "``.
fn write(out: &mut String, value: &Value<'_>) {
    match value {
        Value::Text(text) => quoted(out, text),
        Value::Raw(raw) => out.push_str(raw),
        Value::List(items) => {
            out.push('[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.push_str(", ");
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(items) => {
            out.push('{');
            for (at, (key, item)) in items.iter().enumerate() {
                if at > 0 {
                    out.push_str(", ");
                }
                quoted(out, key);
                out.push_str(": ");
                write(out, item);
            }
            out.push('}');
        }
    }
}

fn quoted(out: &mut String, text: &str) {
    out.push('"');
    out.push_str(text);
    out.push('"');
}

fn key(out: &mut String, first: &mut bool, name: &str) {
    if !*first {
        out.push_str(", ");
    }
    *first = false;
    quoted(out, name);
    out.push_str(": ");
}

/// A time as ``_isoformat`` writes it: its fast path here, ``isoformat`` (Python's) for the rest.
fn time(py: Python<'_>, out: &mut String, raw: &str, isoformat: &PyAny) -> PyResult<Read<()>> {
    let bytes = raw.as_bytes();
    if !raw.is_ascii() || raw.contains('\\') {
        return Ok(Err(Declined)); // its length in code points, or its decoded text, is Python's
    }
    if bytes.len() == 20 && bytes[19] == b'Z' && bytes[10] == b'T' {
        out.push('"');
        out.push_str(&raw[..19]);
        out.push_str("+00:00\"");
        return Ok(Ok(()));
    }
    let written = match isoformat.call1((PyString::new(py, raw),)) {
        Ok(written) => written,
        Err(_) => return Ok(Err(Declined)), // the Python path raises it again
    };
    let written: &str = written.downcast::<PyString>()?.to_str()?;
    let json = serde_json::to_string(written).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    out.push_str(&json);
    Ok(Ok(()))
}

/// ``_encode_line(document_line(json.loads(document)))``, or ``Declined``.
fn line(py: Python<'_>, out: &mut String, document: &str, isoformat: &PyAny) -> PyResult<Read<()>> {
    let mut reader = Reader { text: document, at: 0 };
    let parsed = match reader.value(0) {
        Ok(parsed) => parsed,
        Err(declined) => return Ok(Err(declined)),
    };
    reader.skip_space();
    if reader.at != document.len() {
        return Ok(Err(Declined));
    }
    let start = out.len();
    let written = write_line(py, out, &parsed, isoformat)?;
    if written.is_err() {
        out.truncate(start);
    }
    Ok(written)
}

fn write_line(py: Python<'_>, out: &mut String, doc: &Value<'_>, isoformat: &PyAny) -> PyResult<Read<()>> {
    macro_rules! take {
        ($read:expr) => {
            match $read {
                Ok(value) => value,
                Err(declined) => return Ok(Err(declined)),
            }
        };
    }
    // every key the Python function reads, read before a byte is written (its KeyError declines)
    let customer_id = take!(field(doc, "customer_id"));
    let sources = take!(list(take!(field(doc, "sources"))));
    let idents = take!(list(take!(field(doc, "identifiers"))));
    let traits = take!(object(take!(field(doc, "traits"))));
    let computed = take!(field(doc, "computed"));
    let consent = take!(object(take!(field(doc, "consent"))));
    let version = take!(field(doc, "version"));

    // the identifiers by kind, in first-seen order (``setdefault``), the ``source`` ones left out
    let mut kinds: Vec<(&str, Vec<&Value<'_>>)> = Vec::new();
    for ident in idents {
        let kind = take!(text(take!(field(ident, "kind"))));
        if kind == "source" {
            continue;
        }
        let value = take!(field(ident, "value"));
        match kinds.iter_mut().find(|(seen, _)| *seen == kind) {
            Some((_, values)) => values.push(value),
            None => kinds.push((kind, vec![value])),
        }
    }

    out.push('{');
    let mut first = true;
    key(out, &mut first, "customer_id");
    write(out, customer_id);
    key(out, &mut first, "sources");
    out.push('[');
    for (at, source) in sources.iter().enumerate() {
        if at > 0 {
            out.push_str(", ");
        }
        let mut inner = true;
        out.push('{');
        for name in ["source", "object_type", "id"] {
            let value = take!(field(source, name));
            key(out, &mut inner, name);
            write(out, value);
        }
        out.push('}');
    }
    out.push(']');
    key(out, &mut first, "identifiers");
    out.push('{');
    let mut inner = true;
    for (kind, values) in &kinds {
        key(out, &mut inner, kind);
        out.push('[');
        for (at, value) in values.iter().enumerate() {
            if at > 0 {
                out.push_str(", ");
            }
            write(out, value);
        }
        out.push(']');
    }
    out.push('}');
    key(out, &mut first, "traits");
    out.push('{');
    let mut inner = true;
    for (name, trait_value) in traits {
        key(out, &mut inner, name);
        write(out, take!(field(trait_value, "value")));
    }
    out.push('}');
    key(out, &mut first, "provenance");
    out.push('{');
    let mut inner = true;
    for (name, trait_value) in traits {
        key(out, &mut inner, name);
        let mut fields = true;
        out.push('{');
        key(out, &mut fields, "source");
        write(out, take!(field(trait_value, "source")));
        key(out, &mut fields, "updated_at");
        take!(time(py, out, take!(text(take!(field(trait_value, "updated_at")))), isoformat)?);
        out.push('}');
    }
    out.push('}');
    key(out, &mut first, "computed");
    write(out, computed);
    key(out, &mut first, "consent");
    out.push('{');
    let mut inner = true;
    for (channel, decision) in consent {
        key(out, &mut inner, channel);
        let mut fields = true;
        out.push('{');
        key(out, &mut fields, "granted");
        write(out, take!(field(decision, "granted")));
        key(out, &mut fields, "changed_at");
        take!(time(py, out, take!(text(take!(field(decision, "changed_at")))), isoformat)?);
        key(out, &mut fields, "source");
        write(out, take!(field(decision, "source")));
        out.push('}');
    }
    out.push('}');
    key(out, &mut first, "version");
    write(out, version);
    out.push('}');
    Ok(Ok(()))
}

/// The lines of a page of profiles' documents (the ``data`` of their PROFILE items), each with its
/// newline: ``(text, declined)``. A document that is not text (a packed profile's bytes) or that
/// this pass declines is written by ``fallback(data)``, the Python path's line; ``isoformat`` is
/// profilesync.resolve_output's ``_isoformat``.
#[pyfunction]
pub fn profile_lines(py: Python<'_>, documents: &PyList, isoformat: &PyAny, fallback: &PyAny) -> PyResult<(String, usize)> {
    let mut out = String::with_capacity(documents.len() * 640);
    let mut declined = 0usize;
    for data in documents.iter() {
        let written = match data.downcast::<PyString>() {
            Ok(document) => line(py, &mut out, document.to_str()?, isoformat)?.is_ok(),
            Err(_) => false,
        };
        if !written {
            declined += 1;
            let text = fallback.call1((data,))?;
            out.push_str(text.downcast::<PyString>()?.to_str()?);
        }
        out.push('\n');
    }
    Ok((out, declined))
}
