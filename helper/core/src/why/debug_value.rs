//! A reader for the `{:?}` (Debug) text of Rust values, as cargo prints its
//! `DirtyReason` in the fingerprint log.
//!
//! The grammar is the one `#[derive(Debug)]` produces: a unit variant
//! (`NothingObvious`), a tuple (`FsStatusOutdated(StaleItem(..))`), a struct
//! (`FeaturesChanged { old: "[]", new: "[\"a\"]" }`), a list (`["-C", "x"]`),
//! a string with Rust escapes, a number. Reading the structure instead of
//! matching substrings keeps a path with `}` or `"` in it from confusing us,
//! and a variant cargo adds later still parses (it is reported as
//! unrecognised, never misread).

use std::fmt;

/// One parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A bare name: a unit variant, `true`, `None`.
    Name(String),
    /// `Name(a, b)`.
    Tuple(String, Vec<Value>),
    /// `Name { field: value, .. }`, fields in order.
    Struct(String, Vec<(String, Value)>),
    /// `[a, b]`.
    List(Vec<Value>),
    /// A string literal, unescaped.
    Str(String),
    /// A number, as written.
    Number(String),
}

/// Why a text is not Debug syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.offset)
    }
}

impl Value {
    /// Parses `text`, which must hold exactly one value (surrounding
    /// whitespace allowed).
    pub fn parse(text: &str) -> Result<Value, SyntaxError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("end of value"));
        }
        Ok(v)
    }

    /// The variant or type name of a name, tuple or struct value.
    pub fn name(&self) -> Option<&str> {
        match self {
            Value::Name(n) | Value::Tuple(n, _) | Value::Struct(n, _) => Some(n),
            _ => None,
        }
    }

    /// Field `key` of a struct value.
    pub fn field(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(_, fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Item `index` of a tuple value.
    pub fn item(&self, index: usize) -> Option<&Value> {
        match self {
            Value::Tuple(_, items) => items.get(index),
            _ => None,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a list value.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The number of a number value, if it fits a `u64`/`i64` pair
    /// (`FileTime { seconds, nanos }` uses both).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, expected: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.i,
            expected,
        }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::Str),
            Some(b'[') => {
                self.i += 1;
                let items = self.items(b']')?;
                Ok(Value::List(items))
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => Ok(Value::Number(self.number())),
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                let name = self.ident();
                match self.peek() {
                    Some(b'(') => {
                        self.i += 1;
                        let items = self.items(b')')?;
                        Ok(Value::Tuple(name, items))
                    }
                    Some(b'{') => {
                        self.i += 1;
                        let fields = self.fields()?;
                        Ok(Value::Struct(name, fields))
                    }
                    _ => Ok(Value::Name(name)),
                }
            }
            _ => Err(self.err("a value")),
        }
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        // Paths such as `a::B` occur in some Debug output; keep them whole.
        while self.i < self.s.len()
            && (self.s[self.i] == b'_'
                || self.s[self.i].is_ascii_alphanumeric()
                || (self.s[self.i] == b':' && self.s.get(self.i + 1) == Some(&b':'))
                || (self.s[self.i] == b':' && self.i > start && self.s[self.i - 1] == b':'))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn number(&mut self) -> String {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'.')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// Comma-separated values up to `close` (a trailing comma allowed).
    fn items(&mut self, close: u8) -> Result<Vec<Value>, SyntaxError> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value()?);
            if self.eat(b',') {
                continue;
            }
            if self.eat(close) {
                return Ok(items);
            }
            return Err(self.err(if close == b']' {
                "`,` or `]`"
            } else {
                "`,` or `)`"
            }));
        }
    }

    /// `key: value` pairs up to `}`; a `..` (non-exhaustive) is skipped.
    fn fields(&mut self) -> Result<Vec<(String, Value)>, SyntaxError> {
        let mut fields = Vec::new();
        loop {
            if self.eat(b'}') {
                return Ok(fields);
            }
            if self.peek() == Some(b'.') && self.s.get(self.i + 1) == Some(&b'.') {
                self.i += 2;
                // `..` alone closes the struct; `..: value` is how cargo's
                // hand-written Debug for targets spells an anonymous field.
                if self.eat(b':') {
                    let v = self.value()?;
                    fields.push(("..".to_string(), v));
                }
            } else {
                match self.peek() {
                    Some(c) if c == b'_' || c.is_ascii_alphabetic() => {}
                    _ => return Err(self.err("a field name")),
                }
                let key = self.ident();
                if !self.eat(b':') {
                    return Err(self.err("`:`"));
                }
                let v = self.value()?;
                fields.push((key, v));
            }
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                return Ok(fields);
            }
            return Err(self.err("`,` or `}`"));
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        // At the opening quote.
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(self.err("a closing `\"`"));
            };
            self.i += 1;
            match c {
                b'"' => return Ok(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.err("an escape"));
                    };
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'0' => out.push(0),
                        b'\\' | b'"' | b'\'' => out.push(e),
                        b'u' => {
                            // \u{XXXX}
                            if self.s.get(self.i) != Some(&b'{') {
                                return Err(self.err("`{` after \\u"));
                            }
                            let start = self.i + 1;
                            let Some(len) = self.s[start..].iter().position(|&b| b == b'}') else {
                                return Err(self.err("`}` closing \\u{"));
                            };
                            let hex = String::from_utf8_lossy(&self.s[start..start + len]);
                            let ch = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.err("a unicode scalar"))?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            self.i = start + len + 1;
                        }
                        _ => return Err(self.err("a known escape")),
                    }
                }
                _ => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_dirty_reasons() {
        let v = Value::parse(
            r#"FsStatusOutdated(StaleItem(ChangedFile { reference: "/t/dep-lib-u", reference_mtime: FileTime { seconds: 17, nanos: 9 }, stale: "/w/src/a \"b\".rs", stale_mtime: FileTime { seconds: 18, nanos: 0 } }))"#,
        )
        .unwrap();
        assert_eq!(v.name(), Some("FsStatusOutdated"));
        let item = v.item(0).unwrap().item(0).unwrap();
        assert_eq!(item.name(), Some("ChangedFile"));
        assert_eq!(
            item.field("stale").and_then(Value::as_str),
            Some("/w/src/a \"b\".rs")
        );
        let mtime = item.field("reference_mtime").unwrap();
        assert_eq!(mtime.field("seconds").and_then(Value::as_i64), Some(17));

        let v =
            Value::parse(r#"RustflagsChanged { old: [], new: ["-C", "opt-level=1"] }"#).unwrap();
        assert_eq!(
            v.field("new").and_then(Value::as_list).map(<[_]>::len),
            Some(2)
        );
        assert_eq!(
            Value::parse(
                "EnvVarChanged { name: \"X\", old_value: Some(\"a\\u{e9}\"), new_value: None }"
            )
            .unwrap()
            .field("old_value")
            .and_then(|v| v.item(0))
            .and_then(Value::as_str),
            Some("a\u{e9}")
        );
        assert_eq!(
            Value::parse(" NothingObvious ").unwrap(),
            Value::Name("NothingObvious".into())
        );
        // cargo's own Debug for a target: `..: with_path(..)`.
        let t = Value::parse(
            r#"TargetInner { name: "app", doc: true, ..: with_path("/w/main.rs", Edition2021) }"#,
        )
        .unwrap();
        assert_eq!(t.field("name").and_then(Value::as_str), Some("app"));
    }

    #[test]
    fn rejects_cut_or_foreign_text() {
        for bad in [
            "FeaturesChanged { old: \"[]\", new: \"[",
            "FsStatusOutdated(StaleItem(",
            "dirty because of reasons",
            "",
            "{}",
        ] {
            assert!(Value::parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
