//! Reading the service's XML answers: a well-formed document with one root, its elements by local
//! name (any namespace), and each element's text content as the DOM's `textContent` gives it.
//!
//! Parsed here, not by the browser's `DOMParser`, which is a Trusted Types sink: a console that
//! enforces `require-trusted-types-for 'script'` may not call it. The answers are a few hundred bytes
//! of elements and text, so the reader is a small strict one (docs/DESIGN.md, "Dependencies");
//! the property tests hold it to quick-xml's reading of the same documents.

use crate::text::find_any;

/// Longest answer body read as XML; the service's answers are a few hundred bytes.
pub const MAX_XML_BYTES: usize = 1 << 20;
/// Most elements read from one answer.
pub const MAX_ELEMENTS: usize = 4096;

/// One element: its local name, its parent, and where its text content lies in the document's text.
#[derive(Debug)]
struct Element {
    name: String,
    parent: Option<usize>,
    text: (usize, usize),
}

/// A parsed answer.
#[derive(Debug)]
pub struct XmlDocument {
    /// In document order; the root first.
    elements: Vec<Element>,
    /// All character data, in document order; each element's text content is a slice of it.
    text: String,
}

/// A view of one element of an [`XmlDocument`].
#[derive(Debug, Clone, Copy)]
pub struct XmlElement<'d> {
    document: &'d XmlDocument,
    index: usize,
}

impl XmlDocument {
    /// The document, or `None` unless `body` is well-formed XML with one root element (and within
    /// [`MAX_XML_BYTES`] and [`MAX_ELEMENTS`]).
    pub fn parse(body: &str) -> Option<XmlDocument> {
        if body.len() > MAX_XML_BYTES {
            return None;
        }
        let body = body.strip_prefix('\u{feff}').unwrap_or(body);
        let mut document = XmlDocument { elements: Vec::new(), text: String::new() };
        // The open elements, innermost last: their index and their name as written (for end tags).
        let mut open: Vec<(usize, &str)> = Vec::new();
        let mut root_closed = false;
        let mut rest = body;
        while !rest.is_empty() {
            let inside = !open.is_empty();
            let Some(markup) = rest.strip_prefix('<') else {
                let end = find_any(rest, b"<").unwrap_or(rest.len());
                let (text, after) = (rest.get(..end)?, rest.get(end..)?);
                if inside {
                    unescape(text, &mut document.text)?;
                } else if !text.bytes().all(|b| b.is_ascii_whitespace()) {
                    return None; // outside the root only whitespace, comments, instructions, the doctype
                }
                rest = after;
                continue;
            };
            rest = if let Some(comment) = markup.strip_prefix("!--") {
                after(comment, "-->")?
            } else if let Some(instruction) = markup.strip_prefix('?') {
                after(instruction, "?>")?
            } else if let Some(data) = markup.strip_prefix("![CDATA[") {
                let end = find(data, "]]>")?;
                if !inside {
                    return None;
                }
                document.text.push_str(data.get(..end)?);
                data.get(end + 3..)?
            } else if let Some(doctype) = markup.strip_prefix("!DOCTYPE") {
                // An internal subset in brackets may hold `>`.
                let tag_end = find_any(doctype, b">")?;
                let subset = find_any(doctype, b"[").filter(|&open| open < tag_end);
                let subset_end = match subset {
                    Some(_) => find_any(doctype, b"]")?,
                    None => 0,
                };
                after(doctype.get(subset_end..)?, ">")?
            } else if let Some(end_tag) = markup.strip_prefix('/') {
                let close = find_any(end_tag, b">")?;
                let (index, name) = open.pop()?;
                if end_tag.get(..close)?.trim_end() != name {
                    return None;
                }
                let end = document.text.len();
                if let Some(element) = document.elements.get_mut(index) {
                    element.text.1 = end;
                }
                root_closed = open.is_empty();
                end_tag.get(close + 1..)?
            } else {
                let (name, empty, after_tag) = start_tag(markup)?;
                if root_closed || document.elements.len() >= MAX_ELEMENTS {
                    return None;
                }
                let local = crate::text::rsplit_once_at(name, b':').map_or(name, |(_, local)| local);
                let at = document.text.len();
                let parent = open.last().map(|(index, _)| *index);
                document.elements.push(Element { name: local.to_owned(), parent, text: (at, at) });
                if empty {
                    // An empty root element is the whole document.
                    root_closed = parent.is_none();
                } else {
                    open.push((document.elements.len() - 1, name));
                }
                after_tag
            };
        }
        root_closed.then_some(document)
    }

    /// The root element.
    pub fn root(&self) -> XmlElement<'_> {
        XmlElement { document: self, index: 0 }
    }

    /// The text content of the first element named `tag` (local name, any namespace).
    pub fn first_text(&self, tag: &str) -> Option<&str> {
        self.root().descendants(tag).next().map(|element| element.text())
    }
}

impl<'d> XmlElement<'d> {
    /// The local name.
    pub fn name(&self) -> &'d str {
        self.document.elements.get(self.index).map_or("", |element| &element.name)
    }

    /// The text content: all character data inside the element, entities resolved.
    pub fn text(&self) -> &'d str {
        let range = self.document.elements.get(self.index).map_or((0, 0), |element| element.text);
        self.document.text.get(range.0..range.1).unwrap_or_default()
    }

    /// The elements named `tag` inside this one (not itself), in document order.
    pub fn descendants<'t>(self, tag: &'t str) -> impl Iterator<Item = XmlElement<'d>> + use<'d, 't> {
        let document = self.document;
        let within = move |mut index: usize| loop {
            match document.elements.get(index).and_then(|element| element.parent) {
                Some(parent) if parent == self.index => return true,
                Some(parent) => index = parent,
                None => return false,
            }
        };
        (self.index + 1..document.elements.len())
            .filter(move |&index| within(index))
            .map(move |index| XmlElement { document, index })
            .filter(move |element| element.name() == tag)
    }

    /// The text content of the first element named `tag` inside this one.
    pub fn child_text(self, tag: &str) -> Option<&'d str> {
        self.descendants(tag).next().map(|element| element.text())
    }
}

/// Where `needle` first is in `text`, by bytes (`str::find` would compile in its panic paths).
fn find(text: &str, needle: &str) -> Option<usize> {
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    (0..=text.len().checked_sub(needle.len())?).find(|&at| text.get(at..at + needle.len()) == Some(needle))
}

/// What follows `end` in `text`.
fn after<'a>(text: &'a str, end: &str) -> Option<&'a str> {
    text.get(find(text, end)? + end.len()..)
}

/// A start tag after its `<`: its name as written, whether it is empty (`/>`), and what follows it.
/// Attributes are skipped (a quoted value may hold `>`); none is read.
fn start_tag(markup: &str) -> Option<(&str, bool, &str)> {
    let mut quote = None;
    let close = markup.bytes().enumerate().find_map(|(at, byte)| {
        match (quote, byte) {
            (Some(open), _) if byte == open => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'>') => return Some(at),
            (None, _) => {}
        }
        None
    })?;
    let tag = markup.get(..close)?;
    let (tag, empty) = match tag.strip_suffix('/') {
        Some(tag) => (tag, true),
        None => (tag, false),
    };
    let name = tag.get(..find_any(tag, b" \t\r\n").unwrap_or(tag.len()))?;
    if name.is_empty() {
        return None;
    }
    Some((name, empty, markup.get(close + 1..)?))
}

/// Appends character data with its references resolved (`&lt;` and the four others, `&#NN;`,
/// `&#xHH;`) and its line ends as XML 1.0 reads them (`\r\n` and `\r` are `\n`); `None` for an
/// unknown or malformed reference.
fn unescape(text: &str, out: &mut String) -> Option<()> {
    let mut rest = text;
    while let Some(at) = find_any(rest, b"&\r") {
        out.push_str(rest.get(..at)?);
        let (marked, tail) = (rest.get(at..=at)?, rest.get(at + 1..)?);
        if marked == "\r" {
            out.push('\n');
            rest = tail.strip_prefix('\n').unwrap_or(tail);
            continue;
        }
        let end = find_any(tail, b";")?;
        let reference = tail.get(..end)?;
        out.push(match reference {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match reference.strip_prefix("#x") {
                    Some(hex) => hex_or_decimal(hex, 16)?,
                    None => hex_or_decimal(reference.strip_prefix('#')?, 10)?,
                };
                char::from_u32(code).filter(|&c| c != '\0')?
            }
        });
        rest = tail.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(())
}

/// The digits of a character reference in `radix`, and nothing else.
fn hex_or_decimal(digits: &str, radix: u8) -> Option<u32> {
    crate::text::digits_in(digits, radix).and_then(|value| u32::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_found_by_local_name_in_any_namespace() {
        let body = r#"<?xml version="1.0" encoding="utf-8"?>
            <SessionInfo xmlns="http://www.glance.net/"><id>77</id>
            <g:agentjoinurl xmlns:g="urn:x">https://w.example/a?b=1&amp;c=&#50;</g:agentjoinurl><x/></SessionInfo>"#;
        let document = XmlDocument::parse(body).expect("well-formed");
        assert_eq!(document.root().name(), "SessionInfo");
        assert_eq!(document.first_text("id"), Some("77"));
        assert_eq!(document.first_text("agentjoinurl"), Some("https://w.example/a?b=1&c=2"));
        assert_eq!(document.first_text("x"), Some(""));
        assert_eq!(document.first_text("calltype"), None);
    }

    #[test]
    fn text_content_includes_descendants_and_cdata() {
        let document = XmlDocument::parse("<a>1<b>2<![CDATA[<3>]]></b>4</a>").unwrap();
        assert_eq!(document.root().text(), "12<3>4");
        assert_eq!(document.first_text("b"), Some("2<3>"));
    }

    #[test]
    fn repeated_elements_are_read_in_order_within_their_parent() {
        let document = XmlDocument::parse(
            "<r><session2><passcode>1</passcode></session2><session2><passcode>2</passcode></session2></r>",
        )
        .unwrap();
        let keys: Vec<&str> =
            document.root().descendants("session2").filter_map(|session| session.child_text("passcode")).collect();
        assert_eq!(keys, ["1", "2"]);
    }

    #[test]
    fn anything_but_one_well_formed_root_is_refused() {
        for bad in [
            "",
            "not xml at all",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text<a/>",
            "<a/>text",
            "<a>&unknown;</a>",
            "<a>&#xD800;</a>",
            "<html><body>Server Error</body>",
        ] {
            assert!(XmlDocument::parse(bad).is_none(), "{bad}");
        }
        assert!(XmlDocument::parse("<a/>").is_some());
        assert!(XmlDocument::parse(" <!-- c --> <a/> \n").is_some());
    }

    #[test]
    fn huge_answers_are_not_read() {
        let many = ["<a>", &"<b/>".repeat(MAX_ELEMENTS), "</a>"].concat();
        assert!(XmlDocument::parse(&many).is_none());
        let long = ["<a>", &"x".repeat(MAX_XML_BYTES), "</a>"].concat();
        assert!(XmlDocument::parse(&long).is_none());
    }
}
