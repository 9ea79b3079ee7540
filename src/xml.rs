//! Reading the service's XML answers (quick-xml): a well-formed document with one root, its elements
//! by local name (any namespace), and each element's text content as the DOM's `textContent` gives it.
//!
//! Parsed here, not by the browser's `DOMParser`, which is a Trusted Types sink: a console that
//! enforces `require-trusted-types-for 'script'` may not call it.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

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
        let mut reader = Reader::from_str(body);
        let mut document = XmlDocument { elements: Vec::new(), text: String::new() };
        let mut open: Vec<usize> = Vec::new();
        let mut closed_root = false;
        loop {
            let event = reader.read_event().ok()?;
            let inside = !open.is_empty();
            match event {
                Event::Start(ref start) | Event::Empty(ref start)
                    if !closed_root && document.elements.len() < MAX_ELEMENTS =>
                {
                    let name = String::from_utf8(start.local_name().as_ref().to_vec()).ok()?;
                    let at = document.text.len();
                    document.elements.push(Element { name, parent: open.last().copied(), text: (at, at) });
                    if matches!(event, Event::Start(_)) {
                        open.push(document.elements.len() - 1);
                    }
                }
                Event::End(_) => {
                    let index = open.pop()?;
                    let end = document.text.len();
                    if let Some(element) = document.elements.get_mut(index) {
                        element.text.1 = end;
                    }
                    closed_root = open.is_empty();
                }
                Event::Text(text) if inside => document.text.push_str(&text.xml10_content().ok()?),
                Event::CData(data) if inside => document.text.push_str(&data.decode().ok()?),
                Event::GeneralRef(reference) if inside => document.text.push_str(&resolve(&reference)?),
                // Outside the root only whitespace, comments, processing instructions and the doctype.
                Event::Text(text) if text.iter().all(u8::is_ascii_whitespace) => {}
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof if closed_root => return Some(document),
                _ => return None,
            }
            // An empty root element is the whole document.
            if document.elements.len() == 1 && open.is_empty() {
                closed_root = true;
            }
        }
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

/// The text of an entity reference: a character reference, or one of XML's five predefined entities.
fn resolve<'a>(reference: &quick_xml::events::BytesRef<'a>) -> Option<Cow<'a, str>> {
    if reference.is_char_ref() {
        let character = reference.resolve_char_ref().ok()??;
        return Some(Cow::Owned(character.to_string()));
    }
    quick_xml::escape::resolve_predefined_entity(&reference.decode().ok()?).map(Cow::Borrowed)
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
