//! Shared rules for user-supplied text, and the same rules as JSON Schema patterns (the
//! OpenAPI document states them; `tests` prove pattern and rule agree on every character).
//!
//! Lengths count characters (Unicode scalar values, as JSON Schema's `maxLength` does) of
//! the text as sent, before any trimming, so a schema can state them exactly.

/// Characters no single line of user text (titles, names, file names) may hold: control
/// characters (`char::is_control`, Unicode Cc); the bidi embedding, override and isolate
/// controls (U+202A–U+202E, U+2066–U+2069), which reorder how the text around them is shown;
/// and the invisible zero-width space, word joiner and byte-order mark. ZWJ, ZWNJ, LRM and
/// RLM stay allowed: emoji sequences and several scripts need them.
pub fn forbidden_in_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200b}' | '\u{202a}'..='\u{202e}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `forbidden_in_line` as the inside of a regular-expression character class.
pub const FORBIDDEN_IN_LINE_CLASS: &str = r"\x00-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff";
/// `char::is_control` as the inside of a character class.
pub const CONTROL_CLASS: &str = r"\x00-\x1f\x7f-\x9f";
/// `char::is_whitespace` (Unicode White_Space) as the inside of a character class.
pub const WHITESPACE_CLASS: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Whether `c` is its own NFKC form in any context (Unicode's NFKC_Quick_Check = Yes): not a
/// compatibility character (`ａ`, `ﬁ`, `²`, `Ω` the ohm sign) and not a mark that may compose
/// with the one before it. Text made only of such characters is NFKC up to the order of its
/// combining marks, which `nfkc` then fixes without changing its length.
pub fn nfkc_stable(c: char) -> bool {
    unicode_normalization::is_nfkc_quick(std::iter::once(c)) == unicode_normalization::IsNormalized::Yes
}

/// The characters that are not `nfkc_stable`, as the inside of a character class: `\uXXXX`
/// for the Basic Multilingual Plane, the characters themselves beyond it (a class of escaped
/// surrogate pairs would mean something else). Built from the rule, so it cannot drift.
pub static NFKC_UNSTABLE_CLASS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use std::fmt::Write as _;
    let write = |class: &mut String, c: char| {
        if u32::from(c) <= 0xffff {
            write!(class, "\\u{:04x}", u32::from(c)).expect("writing to a string");
        } else {
            class.push(c);
        }
    };
    let mut class = String::new();
    let mut run: Option<(char, char)> = None;
    let flush = |class: &mut String, run: (char, char)| {
        write(class, run.0);
        if run.1 != run.0 {
            class.push('-');
            write(class, run.1);
        }
    };
    for c in (0..=0x10_ffff).filter_map(char::from_u32).filter(|c| !nfkc_stable(*c)) {
        run = match run {
            Some((first, last)) if u32::from(last) + 1 == u32::from(c) => Some((first, c)),
            Some(done) => {
                flush(&mut class, done);
                Some((c, c))
            }
            None => Some((c, c)),
        };
    }
    if let Some(done) = run {
        flush(&mut class, done);
    }
    class
});

/// NFKC: for text whose characters are all `nfkc_stable`, only the order of combining marks
/// can change.
pub(crate) fn nfkc(value: &str) -> String {
    unicode_normalization::UnicodeNormalization::nfkc(value).collect()
}

/// Checks length (in characters) and control characters. `allow_newlines` admits `\n`,
/// `\r` and `\t`, for multi-line fields.
pub(crate) fn check_text(value: &str, min: usize, max: usize, allow_newlines: bool) -> Result<(), String> {
    check_length(value, min, max)?;
    let forbidden = |c: char| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t'));
    if value.chars().any(forbidden) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

fn check_length(value: &str, min: usize, max: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length < min {
        return Err(if min == 1 { "must not be empty".to_owned() } else { format!("must be at least {min} characters") });
    }
    if length > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(())
}

/// A single line of at most `max` characters as sent, none `forbidden_in_line`, not blank;
/// kept trimmed. What titles and names are.
pub(crate) fn trimmed_line(raw: &str, max: usize) -> Result<String, String> {
    check_length(raw, 1, max)?;
    if raw.chars().any(forbidden_in_line) {
        return Err("must not contain control, bidi-override or zero-width characters".to_owned());
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must not be blank".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// Lower-cases as `str::to_lowercase` does (a word-final Σ becomes ς), but İ (U+0130)
/// becomes a plain `i`: the one character whose lower case is longer (i + U+0307), which
/// would let a value grow past its limit and fail to parse as itself again.
pub(crate) fn lowercase(raw: &str) -> String {
    raw.replace('\u{130}', "i").to_lowercase()
}

/// A text value read back from a store: written by `parse`, maybe under older, looser rules
/// (a title with a bidi control saved before they were refused; an email whose lower-casing
/// lengthened it), so only what every version guaranteed is checked — not empty, no control
/// characters. Tightening a rule must never make stored data unreadable.
pub(crate) fn stored_text(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.chars().any(char::is_control) {
        return Err("is not a stored text value".to_owned());
    }
    Ok(raw.to_owned())
}

/// `TryFrom<String>` through `parse` and `From<Self> for String`, for newtypes over a
/// `String` that serde reads and writes as plain strings.
macro_rules! string_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse(&raw)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    )*};
}
pub(crate) use string_conversions;

/// `string_conversions`, but serde's `TryFrom<String>` (how the stores read values back) goes
/// through `stored_text`, for types whose `parse` may have been tightened since data was saved.
macro_rules! stored_string_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                super::text::stored_text(&raw).map(Self)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    )*};
}
pub(crate) use stored_string_conversions;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Unicode scalar value: the class matches exactly the characters the rule names.
    fn assert_class_is(class: &str, rule: impl Fn(char) -> bool) {
        let regex = regex::Regex::new(&format!("^[{class}]$")).expect("the class compiles");
        let mut buffer = [0; 4];
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            assert_eq!(regex.is_match(c.encode_utf8(&mut buffer)), rule(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn stored_values_read_back_under_the_rules_they_were_written_with() {
        // Saved before bidi controls were refused: still readable, no longer writable.
        let old = "call \u{202a}+44 20 7946 0000\u{202c}";
        assert!(trimmed_line(old, 200).is_err());
        assert_eq!(stored_text(old).unwrap(), old);
        assert!(stored_text("").is_err() && stored_text("a\u{0}").is_err());
        // The stores read values back through serde.
        let title: crate::model::Title = serde_json::from_value(serde_json::json!(old)).unwrap();
        assert_eq!(title.as_str(), old);
        let name: crate::model::FileName = serde_json::from_value(serde_json::json!("...")).unwrap();
        assert_eq!(name.as_str(), "...");
    }

    #[test]
    fn character_classes_match_their_rules_on_every_character() {
        assert_class_is(CONTROL_CLASS, char::is_control);
        assert_class_is(WHITESPACE_CLASS, char::is_whitespace);
        assert_class_is(FORBIDDEN_IN_LINE_CLASS, forbidden_in_line);
        assert_class_is(&NFKC_UNSTABLE_CLASS, |c| !nfkc_stable(c));
    }

    /// What `Email::parse` relies on: lower-casing an NFKC-stable character gives NFKC-stable
    /// characters (so a parsed email parses again as itself), and NFKC of stable text keeps
    /// its length.
    #[test]
    fn lower_case_and_nfkc_keep_stable_text_stable() {
        for c in (0..=0x10_ffff).filter_map(char::from_u32).filter(|c| nfkc_stable(*c)) {
            let lower = lowercase(&c.to_string());
            assert!(lower.chars().all(nfkc_stable), "U+{:04X} lower-cases to {lower:?}", u32::from(c));
        }
        for text in ["a\u{592}\u{591}b", "x\u{94d}y", "ada"] {
            assert_eq!(nfkc(text).chars().count(), text.chars().count(), "{text:?}");
        }
        assert_eq!(nfkc("a\u{592}\u{591}"), "a\u{591}\u{592}", "marks are put in order");
    }

    #[test]
    fn lines_count_what_was_sent_and_refuse_reordering_characters() {
        assert_eq!(trimmed_line("  Pay rent ", 20).unwrap(), "Pay rent");
        assert!(trimmed_line(&format!(" {}", "x".repeat(20)), 20).is_err(), "the length counts the spaces sent");
        assert!(trimmed_line(" \t", 20).is_err());
        for sneaky in ["evil\u{202e}txt.exe", "a\u{2066}b", "zero\u{200b}width", "\u{feff}bom"] {
            assert!(trimmed_line(sneaky, 40).is_err(), "{sneaky:?}");
        }
        for fine in ["👨\u{200d}👩\u{200d}👧", "می\u{200c}خواهم", "abc\u{200f}"] {
            assert!(trimmed_line(fine, 40).is_ok(), "{fine:?}");
        }
    }
}
