//! The presence service's JSON (PRESENCE.md sections 1–4), read and written in the core so that every
//! answer and socket frame is judged here and tested natively.
//!
//! Reading keeps what the rules need: scalars, nested objects by member name, and each object's own
//! text, which the browser turns into the object a page's event carries (`JSON.parse`). Numbers are
//! kept as their text and read as whole numbers only: nothing here needs a fraction, and float
//! parsing would cost the module kilobytes. Writing is string building with one escaper.

use std::borrow::Cow;

/// Deepest nesting read; deeper documents are refused rather than risk the stack.
pub const MAX_DEPTH: usize = 32;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(&'a str),
    /// A string, unescaped.
    Text(Cow<'a, str>),
    /// An array, as written (its items are checked, not kept).
    Array(&'a str),
    /// An object.
    Object(Object<'a>),
}

/// A JSON object: its members in order, and its text as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<'a> {
    raw: &'a str,
    members: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Object<'a> {
    /// The member `name` (the last one, as `JSON.parse` keeps it).
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.members.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    /// The object as written, for the browser to rebuild.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Member `name` as text (see [`Json::as_text`]).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Json::as_text)
    }

    /// Whether member `name` is there and truthy, as JavaScript reads it.
    pub fn truthy(&self, name: &str) -> bool {
        self.get(name).is_some_and(Json::is_truthy)
    }

    /// Whether member `name` is there and not `null`.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some_and(|value| !matches!(value, Json::Null))
    }
}

impl<'a> Json<'a> {
    /// Reads a whole document; `None` unless `text` is one JSON value (with whitespace around it).
    pub fn parse(text: &'a str) -> Option<Json<'a>> {
        let mut reader = Reader { text, at: 0 };
        let value = reader.value(0)?;
        reader.skip_space();
        (reader.at == text.len()).then_some(value)
    }

    /// The items of an array (none for anything else), read again from its text.
    pub fn items(&self) -> Vec<Json<'a>> {
        let mut items = Vec::new();
        if let Json::Array(raw) = self {
            let mut reader = Reader { text: raw, at: 1 };
            while let Some(item) = reader.value(0) {
                items.push(item);
                reader.skip_space();
                if reader.eat(b',').is_none() {
                    break;
                }
            }
        }
        items
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    /// A string as it is, or a whole number written in decimal (`443`): what hosts and ports may be.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Json::Text(text) => Some(text),
            Json::Number(number) if number.bytes().all(|b| b.is_ascii_digit()) => Some(number),
            _ => None,
        }
    }

    /// A number's whole part (`2.5` is 2; `-3` is -3); `None` for other values and exponents.
    pub fn whole_number(&self) -> Option<i64> {
        let Json::Number(number) = self else { return None };
        let (negative, digits) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, *number),
        };
        if crate::text::find_any(digits, b"eE").is_some() {
            return None;
        }
        // The reader made the number, so its whole part is digits (at least one).
        let value = i64::try_from(crate::text::digits(crate::text::before(digits, b'.'))?).ok()?;
        Some(if negative { -value } else { value })
    }

    /// JavaScript truthiness: `null`, `false`, `0`, `""` are false.
    pub fn is_truthy(&self) -> bool {
        match self {
            Json::Null => false,
            Json::Bool(flag) => *flag,
            Json::Number(number) => number.bytes().any(|b| (b'1'..=b'9').contains(&b)) && !mantissa_is_zero(number),
            Json::Text(text) => !text.is_empty(),
            Json::Array(_) | Json::Object(_) => true,
        }
    }
}

/// `0e5` and `0.0e-3` are zero although they hold other digits.
fn mantissa_is_zero(number: &str) -> bool {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    !mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let rest = self.text.get(self.at..)?;
        rest.starts_with(word).then(|| self.at += word.len())
    }

    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_space();
        let start = self.at;
        match self.peek()? {
            b'n' => self.literal("null").map(|_| Json::Null),
            b't' => self.literal("true").map(|_| Json::Bool(true)),
            b'f' => self.literal("false").map(|_| Json::Bool(false)),
            b'"' => self.string().map(Json::Text),
            b'[' => {
                self.at += 1;
                self.skip_space();
                if self.peek()? != b']' {
                    loop {
                        self.value(depth + 1)?;
                        self.skip_space();
                        if self.peek()? == b']' {
                            break;
                        }
                        self.eat(b',')?;
                    }
                }
                self.at += 1;
                Some(Json::Array(self.text.get(start..self.at)?))
            }
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                self.skip_space();
                if self.peek()? != b'}' {
                    loop {
                        self.skip_space();
                        if self.peek()? != b'"' {
                            return None;
                        }
                        let key = self.string()?;
                        self.eat(b':')?;
                        members.push((key, self.value(depth + 1)?));
                        self.skip_space();
                        if self.peek()? == b'}' {
                            break;
                        }
                        self.eat(b',')?;
                    }
                }
                self.at += 1;
                Some(Json::Object(Object { raw: self.text.get(start..self.at)?, members }))
            }
            _ => self.number(),
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<Json<'a>> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.required_digits()?;
        }
        Some(Json::Number(self.text.get(start..self.at)?))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn required_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// A string at the reader (its opening quote), unescaped; borrowed when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.at += 1;
        // The bytes since the last escape, copied in one piece when the next escape or the end comes.
        let mut run = self.at;
        let mut owned: Option<String> = None;
        loop {
            match self.peek()? {
                b'"' => {
                    let tail = self.text.get(run..self.at)?;
                    self.at += 1;
                    return Some(match owned {
                        Some(mut text) => {
                            text.push_str(tail);
                            Cow::Owned(text)
                        }
                        None => Cow::Borrowed(tail),
                    });
                }
                b'\\' => {
                    let text = owned.get_or_insert_with(String::new);
                    text.push_str(self.text.get(run..self.at)?);
                    self.at += 1;
                    text.push(self.escape()?);
                    run = self.at;
                }
                0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
    }

    /// One escape after its backslash.
    fn escape(&mut self) -> Option<char> {
        let byte = self.peek()?;
        self.at += 1;
        Some(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) {
                    // A surrogate pair: `\uD83D\uDE00`; a lone half is replaced, as browsers render it.
                    let rest = self.text.get(self.at..)?;
                    if rest.starts_with("\\u") {
                        let saved = self.at;
                        self.at += 2;
                        let low = self.hex4()?;
                        if (0xDC00..0xE000).contains(&low) {
                            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                            return char::from_u32(code);
                        }
                        self.at = saved;
                    }
                    char::REPLACEMENT_CHARACTER
                } else {
                    char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER)
                }
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at.checked_add(4)?)?;
        let value = crate::text::digits_in(digits, 16)?;
        self.at += 4;
        u32::try_from(value).ok()
    }
}

/// Appends `text` as a JSON string, quoted and escaped.
pub fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let code = c as usize;
                out.push_str("\\u00");
                for nibble in [code >> 4, code & 0xF] {
                    out.push(char::from(HEX.get(nibble).copied().unwrap_or(b'0')));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Builds a JSON object member by member.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// `{`.
    pub fn new() -> Writer {
        Writer { out: String::from("{") }
    }

    fn key(&mut self, name: &str) -> &mut String {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        push_string(&mut self.out, name);
        self.out.push(':');
        &mut self.out
    }

    /// A string member.
    pub fn text(mut self, name: &str, value: &str) -> Writer {
        push_string(self.key(name), value);
        self
    }

    /// A `true`, `false` or (`None`) `null` member.
    pub fn flag(self, name: &str, value: Option<bool>) -> Writer {
        self.raw(name, value.map_or("null", |value| if value { "true" } else { "false" }))
    }

    /// A member whose value is already JSON (a number's digits, a nested object).
    pub fn raw(mut self, name: &str, json: &str) -> Writer {
        self.key(name).push_str(json);
        self
    }

    /// `}`: the object's text.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// `[…]`: an array of values already JSON.
pub fn array(items: &[String]) -> String {
    let mut out = String::from("[");
    for item in items {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// The members of a JSON object's text, as written, without `name` members: for copying a page's
/// object into a message while setting one field of its own.
pub fn members_without(object: &Object<'_>, name: &str) -> String {
    let mut out = String::new();
    let mut writer_members = object.members.iter().filter(|(key, _)| key != name).peekable();
    // Each kept member is written back from its parsed form: key quoted again, value as written.
    while let Some((key, value)) = writer_members.next() {
        push_string(&mut out, key);
        out.push(':');
        write_value(&mut out, value);
        if writer_members.peek().is_some() {
            out.push(',');
        }
    }
    out
}

fn write_value(out: &mut String, value: &Json<'_>) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Number(number) => out.push_str(number),
        Json::Text(text) => push_string(out, text),
        Json::Array(raw) => out.push_str(raw),
        Json::Object(object) => out.push_str(object.raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Object<'_> {
        match Json::parse(text) {
            Some(Json::Object(object)) => object,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn reads_scalars_nested_objects_and_keeps_raw_text() {
        let frame = object(r#" {"mtype":"visitorsock","keepalive":30,"data":{"connected":true,"url":"https://a/b"}} "#);
        assert_eq!(frame.text("mtype"), Some("visitorsock"));
        assert_eq!(frame.get("keepalive").and_then(Json::whole_number), Some(30));
        let data = frame.get("data").and_then(Json::as_object).expect("data");
        assert!(data.truthy("connected"));
        assert_eq!(data.raw(), r#"{"connected":true,"url":"https://a/b"}"#);
        assert!(!frame.has("missing"));
    }

    #[test]
    fn strings_are_unescaped_with_surrogate_pairs() {
        let value = Json::parse(r#""a\"b\\c\/d\n\u00e9\ud83d\ude00 \ud800x""#).expect("string");
        assert_eq!(value.as_text(), Some("a\"b\\c/d\né😀 \u{fffd}x"));
        assert_eq!(Json::parse(r#""plain""#), Some(Json::Text(Cow::Borrowed("plain"))));
        assert_eq!(Json::parse(r#""x\ty\tz""#).and_then(|v| v.as_text().map(str::to_owned)), Some("x\ty\tz".into()));
    }

    #[test]
    fn what_json_parse_refuses_is_refused() {
        for bad in [
            "",
            "nul",
            "{",
            "{\"a\"}",
            "{\"a\":1,}",
            "[1,]",
            "01",
            "1.",
            "-",
            "\"\u{1}\"",
            "\"\\x\"",
            "{a:1}",
            "1 2",
            "\"\\u12\"",
            "[",
            "{\"a\":1 \"b\":2}",
        ] {
            assert_eq!(Json::parse(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(Json::parse(&deep), None, "too deep");
        for good in ["null", "[]", "{}", "-0.5e+3", "[1,[2,{}],\"x\"]", "\"\"", " true "] {
            assert!(Json::parse(good).is_some(), "{good:?}");
        }
    }

    #[test]
    fn numbers_read_as_whole_numbers_and_truthiness_is_javascripts() {
        let number = |text| Json::parse(text).and_then(|value| value.whole_number());
        assert_eq!(number("2.5"), Some(2));
        assert_eq!(number("-3"), Some(-3));
        assert_eq!(number("1e3"), None);
        assert_eq!(number("99999999999999999999"), None);
        assert_eq!(number("9223372036854775807"), Some(i64::MAX));
        assert_eq!(number("9223372036854775808"), None, "beyond i64");
        let truthy = |text| Json::parse(text).is_some_and(|value| value.is_truthy());
        for yes in ["1", "0.1", "\"0\"", "[]", "{}", "true", "-2"] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["0", "-0", "0.0", "0e5", "\"\"", "null", "false"] {
            assert!(!truthy(no), "{no}");
        }
        assert_eq!(Json::parse("443").as_ref().and_then(Json::as_text), Some("443"));
        assert_eq!(Json::parse("-1").as_ref().and_then(Json::as_text), None);
    }

    #[test]
    fn an_arrays_items_are_read_in_order() {
        let array = Json::parse(r#" [ {"a":1}, "x", [2], 3 ] "#).expect("array");
        let items = array.items();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].as_object().and_then(|o| o.get("a")).and_then(Json::whole_number), Some(1));
        assert_eq!(items[1].as_text(), Some("x"));
        assert_eq!(Json::parse("[]").expect("empty").items(), []);
        assert_eq!(Json::parse("{}").expect("object").items(), [], "not an array");
    }

    #[test]
    fn the_last_of_twin_members_counts_as_json_parse_keeps_it() {
        assert_eq!(object(r#"{"a":1,"a":"two"}"#).text("a"), Some("two"));
    }

    #[test]
    fn writing_escapes_every_string() {
        let text = Writer::new().text("type", "connect").text("q\"", "a\\b\n\u{1}é").raw("n", "5").finish();
        assert_eq!(text, r#"{"type":"connect","q\"":"a\\b\n\u0001é","n":5}"#);
        let read = object(&text);
        assert_eq!(read.text("q\""), Some("a\\b\n\u{1}é"));
        assert_eq!(Writer::new().finish(), "{}");
    }

    #[test]
    fn members_are_copied_without_one() {
        let args = object(r#"{"sessionKey":1,"remote":true,"x":{"y":[1]},"s":"\u00e9"}"#);
        let copied = members_without(&args, "sessionKey");
        assert_eq!(copied, r#""remote":true,"x":{"y":[1]},"s":"é""#);
        assert_eq!(members_without(&object("{}"), "a"), "");
    }
}
